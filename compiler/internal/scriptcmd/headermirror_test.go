package scriptcmd

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHeaderHandlerLogsAndRefuses(t *testing.T) {
	var out strings.Builder
	srv := httptest.NewServer(headerHandler([]string{"x-amz-expected-bucket-owner", "If-None-Match"}, &out))
	defer srv.Close()
	for _, tc := range []struct {
		headers map[string]string
		status  int
	}{
		{map[string]string{"Range": "bytes=0-1", "Connection": "close"}, 200},
		{map[string]string{"X-Amz-Expected-Bucket-Owner": "1"}, 404},
		{map[string]string{"if-none-match": "*"}, 404},
	} {
		req, err := http.NewRequest(http.MethodHead, srv.URL+"/b?x=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "mirror.test"
		req.Header.Set("User-Agent", "")
		for k, v := range tc.headers {
			req.Header[k] = []string{v}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%v: status %d; want %d", tc.headers, resp.StatusCode, tc.status)
		}
	}
	want := `HEAD /b?x=1
Host: mirror.test
Connection: close
Range: bytes=0-1
HEAD /b?x=1
Host: mirror.test
X-Amz-Expected-Bucket-Owner: 1
HEAD /b?x=1
Host: mirror.test
If-None-Match: *
`
	if out.String() != want {
		t.Errorf("logged\n%s\nwant\n%s", out.String(), want)
	}
}

package feeds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// entryString renders an entry with its range as line:col-line:col.
func entryString(e Entry) string {
	r := e.Range
	return fmt.Sprintf("%s %s %q %d:%d-%d:%d", e.Prefix, e.Region, e.Service, r.Start.Line, r.Start.Column, r.End.Line, r.End.Column)
}

// diagString renders a diagnostic as summary@line:col, or just the summary without a subject.
func diagString(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return d.Summary
	}
	return fmt.Sprintf("%s@%d:%d", d.Summary, d.Subject.Start.Line, d.Subject.Start.Column)
}

func TestFormatsHaveParsers(t *testing.T) {
	if !slices.IsSorted(Formats()) || len(slices.Compact(Formats())) != len(formats) {
		t.Fatalf("Formats %v must be sorted and unique", Formats())
	}
	for _, f := range formats {
		if f.parse == nil {
			t.Errorf("no parser for %q", f.name)
		}
	}
}

func TestParseSamples(t *testing.T) {
	tests := []struct {
		format, file     string
		syncToken, creat string
		entries          []string
	}{
		{"aws", "aws.json", "1785313625", "2026-07-29-08-27-05", []string{
			`3.4.12.4/32 eu-west-1 "AMAZON" 5:5-10:6`,
			`3.5.140.0/22 ap-northeast-2 "AMAZON" 11:5-16:6`,
			`15.190.244.0/22 ap-east-2 "AMAZON" 17:5-22:6`,
			`2600:1f17:4ce9:6400::/56 mx-central-1 "EFS" 25:5-30:6`,
			`2600:1f18:1be8:8f00::/56 us-east-1 "EFS" 31:5-36:6`,
		}},
		{"gcp", "gcp.json", "1785333953849", "2026-07-29T07:05:53.849365", []string{
			`34.1.208.0/20 africa-south1 "Google Cloud" 4:16-8:4`,
			`34.35.0.0/16 africa-south1 "Google Cloud" 8:6-12:4`,
			`2600:1900:8000::/44 africa-south1 "Google Cloud" 12:6-16:4`,
			`2600:1900:4280::/44 us-west8 "Google Cloud" 16:6-20:4`,
		}},
		{"azure", "azure.json", "412", "", []string{
			`4.145.74.52/30 global "ActionGroup" 5:5-23:6`,
			`2603:1030:c06:400::978/125 global "ActionGroup" 5:5-23:6`,
			`4.145.74.52/30 eastus "AzureCloud" 24:5-44:6`,
			`20.42.0.0/17 eastus "AzureCloud" 24:5-44:6`,
		}},
		{"oracle", "oracle.json", "", "2026-07-28T22:08:53.541087", []string{
			`129.146.0.0/21 us-phoenix-1 "OCI" 7:9-12:10`,
			`134.70.8.0/21 us-phoenix-1 "OSN,OBJECT_STORAGE" 13:9-19:10`,
			`130.61.0.0/16 eu-frankfurt-1 "OCI" 25:9-30:10`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, diags := Parse(tt.format, path, src)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if s.Format != tt.format || s.SyncToken != tt.syncToken || s.Created != tt.creat {
				t.Errorf("got format %q syncToken %q created %q, want %q %q %q", s.Format, s.SyncToken, s.Created, tt.format, tt.syncToken, tt.creat)
			}
			var got []string
			for _, e := range s.Entries {
				got = append(got, entryString(e))
				if e.Range.Filename != path {
					t.Errorf("entry filename %q, want %q", e.Range.Filename, path)
				}
			}
			if !slices.Equal(got, tt.entries) {
				t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.entries, "\n"))
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, format, src string
		want              []string // summary@line:col, in order
	}{
		{"invalid JSON", "aws", "{\n  \"syncToken\": \"1\",\n  \"prefixes\": [}\n}", []string{"Invalid JSON@3:16"}},
		{"truncated", "gcp", "{\n  \"syncToken\": \"1\",\n  \"prefixes\": [{\"ipv4Prefix\": \"10.0.", []string{"Truncated JSON@3:37"}},
		{"truncated before trailing newline", "oracle", "{\n  \"regions\": [\n", []string{"Truncated JSON@2:15"}},
		{"empty file", "aws", "", []string{"Truncated JSON@1:1"}},
		{"data after the object", "aws", "{}\n x", []string{"Invalid JSON@2:2"}},
		{"root not an object", "gcp", "\n [1]", []string{"Wrong JSON type@2:2"}},
		{"prefixes is an object", "aws", `{
  "syncToken": "1",
  "createDate": "d",
  "prefixes": {},
  "ipv6_prefixes": []
}`, []string{"Wrong JSON type@4:15"}},
		{"ip_prefix is a number", "aws", `{
  "syncToken": "1",
  "createDate": "d",
  "prefixes": [
    {"ip_prefix": 10, "region": "r", "service": "s"}
  ],
  "ipv6_prefixes": []
}`, []string{"Wrong JSON type@5:19"}},
		{"element not an object", "aws", `{
  "syncToken": "1",
  "createDate": "d",
  "prefixes": [
    "10.0.0.0/8"
  ],
  "ipv6_prefixes": []
}`, []string{"Wrong JSON type@5:5"}},
		{"bad prefixes, all reported", "aws", `{
  "syncToken": "1",
  "createDate": "d",
  "prefixes": [
    {"ip_prefix": "10.0.0/8", "region": "r", "service": "s"},
    {"ip_prefix": "10.0.0.1/8", "region": "r", "service": "s"},
    {"ip_prefix": "2600::/40", "region": "r", "service": 7},
    {"ip_prefix": "10.0.0.0/8", "service": "s"}
  ],
  "ipv6_prefixes": [
    {"ipv6_prefix": "10.0.0.0/8", "region": "r", "service": "s"}
  ]
}`, []string{
			"Invalid prefix@5:19",
			"Prefix has host bits set@6:19",
			"Wrong address family@7:19",
			"Wrong JSON type@7:58",
			`Missing field "region"@8:5`,
			"Wrong address family@11:21",
		}},
		{"gcp prefix keys", "gcp", `{
  "syncToken": "1",
  "creationTime": "t",
  "prefixes": [
    {"ipv4Prefix": "10.0.0.0/8", "ipv6Prefix": "2600::/40", "service": "s", "scope": "r"},
    {"service": "s", "scope": "r"},
    {"ipv6Prefix": "10.0.0.0/8", "service": "s", "scope": "r"}
  ]
}`, []string{
			"Entry has two prefixes@5:5",
			"Entry has no prefix@6:5",
			"Wrong address family@7:20",
		}},
		{"missing syncToken", "aws", `{
  "createDate": "d",
  "prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "r", "service": "s"}],
  "ipv6_prefixes": []
}`, []string{`Missing field "syncToken"@1:1`}},
		{"missing creationTime", "gcp", `{"syncToken": "1", "prefixes": [{"ipv4Prefix": "10.0.0.0/8", "service": "s", "scope": "r"}]}`,
			[]string{`Missing field "creationTime"@1:1`}},
		{"empty prefix list", "aws", `{
  "syncToken": "1",
  "createDate": "d",
  "prefixes": [],
  "ipv6_prefixes": []
}`, []string{"Feed has no prefixes@4:15"}},
		{"azure problems", "azure", `{
  "changeNumber": "12",
  "values": [
    {"name": "AzureCloud", "properties": {"region": "", "addressPrefixes": ["1.2.3.4/24", 5]}},
    {"name": "Sql.westus", "properties": []}
  ]
}`, []string{
			"Wrong JSON type@2:19",
			"Prefix has host bits set@4:77",
			"Wrong JSON type@4:91",
			"Wrong JSON type@5:42",
		}},
		{"azure negative change number", "azure", `{"changeNumber": -1, "values": [{"name": "A", "properties": {"addressPrefixes": ["1.2.3.0/24"]}}]}`,
			[]string{"Invalid change number@1:18"}},
		{"oracle problems", "oracle", `{
  "last_updated_timestamp": "t",
  "regions": [
    {"region": "r", "cidrs": [{"cidr": "1.2.3.0/24", "tags": "OCI"}, {"cidr": "1.2.4.0/24", "tags": [1]}]},
    {"cidrs": []}
  ]
}`, []string{
			"Wrong JSON type@4:62",
			"Wrong JSON type@4:102",
			`Missing field "region"@5:5`,
		}},
		{"oracle empty", "oracle", `{"last_updated_timestamp": "t", "regions": [{"region": "r", "cidrs": []}]}`,
			[]string{"Feed has no prefixes@1:44"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse(tt.format, "feed.json", []byte(tt.src))
			var got []string
			for _, d := range diags {
				got = append(got, diagString(d))
				if d.Severity != hcl.DiagError || d.Detail == "" || d.Subject == nil || d.Subject.Filename != "feed.json" {
					t.Errorf("malformed diagnostic %#v", d)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestHostBitsSuggestsMaskedForm(t *testing.T) {
	src := `{"syncToken": "1", "createDate": "d", "prefixes": [{"ip_prefix": "10.0.0.1/8", "region": "r", "service": "s"}], "ipv6_prefixes": []}`
	_, diags := Parse("aws", "feed.json", []byte(src))
	want := `"10.0.0.1/8" has address bits set past its length; write "10.0.0.0/8" instead.`
	if len(diags) != 1 || diags[0].Detail != want {
		t.Fatalf("got %v, want one diagnostic with detail %q", diags, want)
	}
}

// TestMinifiedColumns checks positions in a one-line feed, where every
// entry shares line 1.
func TestMinifiedColumns(t *testing.T) {
	pretty, err := os.ReadFile(filepath.Join("testdata", "aws.json"))
	if err != nil {
		t.Fatal(err)
	}
	var src bytes.Buffer
	if err := json.Compact(&src, pretty); err != nil {
		t.Fatal(err)
	}
	s, diags := Parse("aws", "min.json", src.Bytes())
	if diags.HasErrors() || len(s.Entries) != 5 {
		t.Fatalf("got %d entries, %v", len(s.Entries), diags)
	}
	for _, e := range s.Entries {
		r := e.Range
		if r.Start.Line != 1 || r.Start.Column != r.Start.Byte+1 || r.End.Column != r.End.Byte+1 || src.Bytes()[r.Start.Byte] != '{' {
			t.Errorf("bad range %#v", r)
		}
	}
}

// TestDiagnosticTextWriter checks that the subjects let hcl print the offending source line.
func TestDiagnosticTextWriter(t *testing.T) {
	src := []byte("{\"syncToken\": \"1\", \"createDate\": \"d\",\n \"prefixes\": [{\"ip_prefix\": \"10.0.0.1/8\", \"region\": \"r\", \"service\": \"s\"}],\n \"ipv6_prefixes\": []}")
	_, diags := Parse("aws", "feed.json", src)
	var out bytes.Buffer
	w := hcl.NewDiagnosticTextWriter(&out, map[string]*hcl.File{"feed.json": {Bytes: src}}, 0, false)
	if err := w.WriteDiagnostics(diags); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"on feed.json line 2:", `"ip_prefix": "10.0.0.1/8"`, "Prefix has host bits set"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	tests := []struct{ name, detail string }{
		{"awz", `"awz" is not a feed format; use one of aws, azure, gcp, oracle. Did you mean "aws"?`},
		{"GCP", `"GCP" is not a feed format; use one of aws, azure, gcp, oracle. Did you mean "gcp"?`},
		{"orcl", `"orcl" is not a feed format; use one of aws, azure, gcp, oracle. Did you mean "oracle"?`},
		{"digitalocean", `"digitalocean" is not a feed format; use one of aws, azure, gcp, oracle.`},
	}
	for _, tt := range tests {
		s, diags := Parse(tt.name, "feed.json", []byte("{}"))
		if s != nil || len(diags) != 1 {
			t.Fatalf("%s: got %v, %v", tt.name, s, diags)
		}
		d := diags[0]
		if d.Summary != "Unknown feed format" || d.Detail != tt.detail || d.Subject != nil || d.Severity != hcl.DiagError {
			t.Errorf("%s: got %s: %s (subject %v)", tt.name, d.Summary, d.Detail, d.Subject)
		}
	}
}

// TestRealSnapshots parses the full published 2026-07 feeds that the
// shipped policy reads.
func TestRealSnapshots(t *testing.T) {
	tests := []struct {
		format, file   string
		syncToken      string
		created        string
		v4, v6         int
		firstOnLineCol string
	}{
		{"aws", "aws-ip-ranges.json", "1785313625", "2026-07-29-08-27-05", 10544, 5880, "5:5"},
		{"gcp", "gcp-cloud.json", "1785333953849", "2026-07-29T07:05:53.849365", 0, 0, "4:16"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			path := filepath.Join("..", "..", "..", "policy", "feeds", tt.file)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, diags := Parse(tt.format, path, src)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if s.SyncToken != tt.syncToken || s.Created != tt.created {
				t.Errorf("got syncToken %q created %q", s.SyncToken, s.Created)
			}
			var v4, v6 int
			for _, e := range s.Entries {
				if e.Prefix.Addr().Is4() {
					v4++
				} else {
					v6++
				}
			}
			if tt.format == "gcp" {
				if len(s.Entries) != 1047 {
					t.Errorf("got %d entries, want 1047", len(s.Entries))
				}
			} else if v4 != tt.v4 || v6 != tt.v6 {
				t.Errorf("got %d v4 + %d v6 entries, want %d + %d", v4, v6, tt.v4, tt.v6)
			}
			start := s.Entries[0].Range.Start
			if got := fmt.Sprintf("%d:%d", start.Line, start.Column); got != tt.firstOnLineCol {
				t.Errorf("first entry at %s, want %s", got, tt.firstOnLineCol)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"aws.json", "gcp.json", "azure.json", "oracle.json"} {
		src, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{"", "{", `{"prefixes": [{"ip_prefix": 1}]}`, `{"values": [{"name": "a\u002eb", "properties": {"addressPrefixes": ["::/0"]}}]}`, "[1e5, true, null]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, format := range Formats() {
			s, diags := Parse(format, "fuzz.json", src)
			if s == nil {
				t.Fatalf("%s: nil snapshot", format)
			}
			for _, d := range diags {
				if d.Subject != nil && (d.Subject.Start.Line < 1 || d.Subject.Start.Byte > d.Subject.End.Byte || d.Subject.End.Byte > len(src)) {
					t.Fatalf("%s: bad subject %#v for %s", format, d.Subject, d.Summary)
				}
			}
		}
	})
}

// TestWrongFormatCapsRepeats parses the real AWS feed as GCP's: every one of
// the 10,544 entries of its "prefixes" has the same two problems. Each kind
// is reported maxRepeats times, then once more with the count of the rest.
func TestWrongFormatCapsRepeats(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "policy", "feeds", "aws-ip-ranges.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, diags := Parse("gcp", "aws.json", src)
	var got []string
	for _, d := range diags {
		got = append(got, diagString(d))
	}
	want := []string{
		`Missing field "creationTime"@1:1`,
		"Entry has no prefix@5:5", `Missing field "scope"@5:5`,
		"Entry has no prefix@11:5", `Missing field "scope"@11:5`,
		"Entry has no prefix@17:5", `Missing field "scope"@17:5`,
		"More problems like these@23:5", "More problems like these@23:5",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The 21,089 problems issue 10 saw, reported in 9 diagnostics.
	if n := Problems(diags); n != 21_089 {
		t.Errorf("Problems = %d, want 21089", n)
	}
	for i, kind := range []string{"Entry has no prefix", `Missing field "scope"`} {
		d := diags[len(diags)-2+i]
		if wantDetail := fmt.Sprintf("10541 more of these (%s) follow the 3 shown, starting here; check that the file is a feed in the gcp format.", kind); d.Detail != wantDetail {
			t.Errorf("detail %q, want %q", d.Detail, wantDetail)
		}
	}
}

func TestCreatedTime(t *testing.T) {
	tests := []struct {
		format, created string
		want            string // RFC 3339, "" for none
	}{
		{"aws", "2026-07-29-08-27-05", "2026-07-29T08:27:05Z"},
		{"gcp", "2026-07-29T07:05:53.849365", "2026-07-29T07:05:53.849365Z"},
		{"oracle", "2026-07-28T22:08:53.541087", "2026-07-28T22:08:53.541087Z"},
		{"azure", "", ""},
		{"aws", "yesterday", ""},
		{"nosuch", "2026-07-29-08-27-05", ""},
	}
	for _, tt := range tests {
		got, ok := CreatedTime(tt.format, tt.created)
		if s := got.Format(time.RFC3339Nano); ok != (tt.want != "") || ok && s != tt.want {
			t.Errorf("CreatedTime(%q, %q) = %s, %v; want %q", tt.format, tt.created, s, ok, tt.want)
		}
	}
}

// TestParseRefusesHostileStrings refuses each string a feed gives (region,
// service, syncToken, creation time) that holds a character a terminal
// would act on, written as a JSON escape or, where JSON allows it, as it
// is, in every format; the detail quotes the value in Go's escapes.
func TestParseRefusesHostileStrings(t *testing.T) {
	chars := map[string]string{"ESC": `\u001b[31m`, "NUL": `\u0000`, "CR": `\r`, "BEL": `\u0007`, "RLO": "\u202e", "DEL": "\x7f"}
	shown := map[string]string{"ESC": `\x1b[31m`, "NUL": `\x00`, "CR": `\r`, "BEL": `\a`, "RLO": `\u202e`, "DEL": `\x7f`}
	for name, c := range chars {
		for _, tt := range []struct {
			format, src, want, detail string
		}{
			{"aws", `{"syncToken": "1", "createDate": "d", "prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "us` + c + `", "service": "s"}], "ipv6_prefixes": []}`,
				"Invalid region@1:90", `The "region" value "us` + shown[name] + `" is not a region name`},
			{"aws", `{"syncToken": "1", "createDate": "d", "prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "r", "service": "S` + c + `"}], "ipv6_prefixes": []}`,
				"Invalid service@1:106", `The "service" value "S` + shown[name] + `" is not a service name`},
			{"aws", `{"syncToken": "1` + c + `", "createDate": "d", "prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "r", "service": "s"}], "ipv6_prefixes": []}`,
				"Invalid version@1:15", `The "syncToken" value "1` + shown[name] + `" is not a version`},
			{"gcp", `{"syncToken": "1", "creationTime": "t` + c + `", "prefixes": [{"ipv4Prefix": "10.0.0.0/8", "service": "s", "scope": "r"}]}`,
				"Invalid version@1:36", `The "creationTime" value "t` + shown[name] + `" is not a version`},
			{"gcp", `{"syncToken": "1", "creationTime": "t", "prefixes": [{"ipv4Prefix": "10.0.0.0/8", "service": "s", "scope": "r` + c + `"}]}`,
				"Invalid region@1:108", `The "scope" value "r` + shown[name] + `" is not a region name`},
			{"azure", `{"changeNumber": 1, "values": [{"name": "A", "properties": {"region": "r` + c + `", "addressPrefixes": ["1.2.3.0/24"]}}]}`,
				"Invalid region@1:71", `The "region" value "r` + shown[name] + `" is not a region name`},
			{"azure", `{"changeNumber": 1, "values": [{"name": "A` + c + `.b", "properties": {"addressPrefixes": ["1.2.3.0/24"]}}]}`,
				"Invalid service@1:41", `The "name" value "A` + shown[name] + `" is not a service name`},
			{"oracle", `{"last_updated_timestamp": "t", "regions": [{"region": "r` + c + `", "cidrs": [{"cidr": "1.2.3.0/24", "tags": ["OCI"]}]}]}`,
				"Invalid region@1:56", `The "region" value "r` + shown[name] + `" is not a region name`},
			{"oracle", `{"last_updated_timestamp": "t", "regions": [{"region": "r", "cidrs": [{"cidr": "1.2.3.0/24", "tags": ["OCI` + c + `"]}]}]}`,
				"Invalid service@1:103", `The "tags" value "OCI` + shown[name] + `" is not a service name`},
		} {
			s, diags := Parse(tt.format, "feed.json", []byte(tt.src))
			if len(diags) != 1 || diagString(diags[0]) != tt.want || !strings.HasPrefix(diags[0].Detail, tt.detail) {
				t.Errorf("%s in %s: got %v, want one %s: %s...", name, tt.src, diags, tt.want, tt.detail)
				continue
			}
			if len(s.Entries) != 0 && !strings.Contains(tt.want, "version") {
				t.Errorf("%s in %s: the entry was kept: %v", name, tt.src, s.Entries)
			}
		}
	}
}

// TestParseShortensLongStrings quotes at most 64 bytes of a bad value.
func TestParseShortensLongStrings(t *testing.T) {
	long := strings.Repeat("é", 100) + "\x7f"
	_, diags := Parse("aws", "feed.json", []byte(`{"syncToken": "1", "createDate": "d", "prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "`+long+`", "service": "s"}], "ipv6_prefixes": []}`))
	want := `The "region" value "` + strings.Repeat("é", 32) + `..." is not a region name: a letter or digit, then up to 62 letters, digits, "-" and "_"; fix the feed or download it again.`
	if len(diags) != 1 || diags[0].Detail != want {
		t.Errorf("got %v\nwant %s", diags, want)
	}
}

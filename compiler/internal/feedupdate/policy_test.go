package feedupdate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regedge/regedge/compiler/internal/config"
)

// basePolicy is a valid policy with one feed; each test appends
// deployments.
const basePolicy = `
registry {
  info_url    = "https://example.com/info"
  privacy_url = "https://example.com/privacy"
}
feed "aws" {
  format = "aws"
  file   = "feeds/aws.json"
  url    = "https://example.com/aws.json"
}
feed "gcp" {
  format = "gcp"
  file   = "feeds/gcp.json"
  url    = "https://example.com/gcp.json"
}
upstream "main" {
  endpoint = "https://docker.example.com"
  prefix   = "images"
}
site "cdn" {
  url = "https://cdn.example.com"
}
mirror {
  default_site = site.cdn
}
route "all" {
  kinds = ["any"]
  to    = upstream.main
}
`

// loadPolicies loads the policy src from dir/policy.hcl.
func loadPolicies(t *testing.T, dir, src string) []*config.Policy {
	t.Helper()
	file := filepath.Join(dir, "policy.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	policies, diags := config.NewLoader(config.Disk{}).Load(file, "")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return policies
}

func TestFromPolicies(t *testing.T) {
	tests := []struct {
		name        string
		deployments string
		want        string // one feed per line: name format file url
	}{
		{
			name: "no deployments",
			want: "aws aws feeds/aws.json https://example.com/aws.json\n" +
				"gcp gcp feeds/gcp.json https://example.com/gcp.json\n",
		},
		{
			name:        "deployments share the feeds",
			deployments: `deployment "us" {}` + "\n" + `deployment "eu" {}`,
			want: "aws aws feeds/aws.json https://example.com/aws.json\n" +
				"gcp gcp feeds/gcp.json https://example.com/gcp.json\n",
		},
		{
			name: "a deployment with its own file",
			deployments: `deployment "us" {}
deployment "eu" {
  feed "aws" {
    file = "feeds/aws-eu.json"
    url  = "https://eu.example.com/aws.json"
  }
}`,
			want: "aws (feeds/aws.json) aws feeds/aws.json https://example.com/aws.json\n" +
				"gcp gcp feeds/gcp.json https://example.com/gcp.json\n" +
				"aws (feeds/aws-eu.json) aws feeds/aws-eu.json https://eu.example.com/aws.json\n",
		},
		{
			name: "a deployment that fetches a shared file elsewhere",
			deployments: `deployment "us" {}
deployment "eu" {
  feed "aws" {
    url = "https://eu.example.com/aws.json"
  }
}`,
			want: `error: feed "aws" of deployment "eu" fetches feeds/aws.json from https://eu.example.com/aws.json (format aws), but feed "aws" of deployment "us" fetches it from https://example.com/aws.json (format aws); give each its own file`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fs, err := FromPolicies(loadPolicies(t, dir, basePolicy+tt.deployments))
			var got strings.Builder
			if err != nil {
				got.WriteString("error: " + err.Error())
			}
			for _, f := range fs {
				got.WriteString(strings.Join([]string{f.Name, f.Format, f.File, f.URL}, " ") + "\n")
				if f.MaxShrink != config.DefaultMaxShrink {
					t.Errorf("%s: max shrink %g, want the default", f.Name, f.MaxShrink)
				}
			}
			if got := strings.ReplaceAll(got.String(), dir+"/", ""); got != tt.want {
				t.Errorf("feeds:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

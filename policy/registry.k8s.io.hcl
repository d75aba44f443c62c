# The routing policy of registry.k8s.io.
#
# Manifests, tags and referrers go to Artifact Registry. Blobs go to the S3
# bucket of the client's AWS region, to the upstream for GCP clients, and to
# CloudFront for everyone else, once a HEAD shows the blob is there.

registry {
  info_url    = "https://github.com/kubernetes/registry.k8s.io"
  privacy_url = "https://www.linuxfoundation.org/privacy-policy/"
}

# Google's load balancer appends the client and itself to X-Forwarded-For,
# so the client is the second entry from the right.
client_ip {
  header       = "X-Forwarded-For"
  trusted_hops = 1
}

feed "aws" {
  format          = "aws"
  file            = "feeds/aws-ip-ranges.json"
  url             = "https://ip-ranges.amazonaws.com/ip-ranges.json"
  exclude_regions = ["me-west-1", "sa-west-1", "us-south-1"]
}

feed "gcp" {
  format = "gcp"
  file   = "feeds/gcp-cloud.json"
  url    = "https://www.gstatic.com/ipranges/cloud.json"
}

upstream "artifact-registry" {
  endpoint = "https://us-central1-docker.pkg.dev"
  prefix   = "k8s-artifacts-prod/images"
}

locals {
  # Regions with a bucket of their own.
  bucket_regions = [
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "ap-south-1", "ap-south-2",
    "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2",
    "eu-north-1",
    "eu-south-1", "eu-south-2",
    "eu-west-1", "eu-west-3",
    "il-central-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1", "us-east-2",
    "us-west-1", "us-west-2",
  ]

  # Regions without a bucket, served by another region's bucket.
  borrowed = {
    "ap-east-1"    = ["cn-north-1", "cn-northwest-1", "ap-east-2"]
    "me-central-1" = ["me-south-1"]
  }

  buckets = merge(
    { for r in local.bucket_regions : r => "https://prod-registry-k8s-io-${r}.s3.dualstack.${r}.amazonaws.com" },
    { "eu-west-2" = "https://767373bbdcb8270361b96548387bf2a9ad0d48758c35-eu-west-2.s3.dualstack.eu-west-2.amazonaws.com" },
  )
}

site "s3" {
  for_each = local.buckets
  url      = each.value
  regions  = concat(["aws:${each.key}"], [for r in lookup(local.borrowed, each.key, []) : "aws:${r}"])
}

site "cloudfront" {
  url     = "https://d1be1w964nk82h.cloudfront.net"
  regions = ["aws:GLOBAL", "aws:us-gov-*", "aws:eusc-*"]
}

mirror {
  default_site = site.cloudfront
  blob_path    = "/containers/images/{digest}"

  check {
    positive_ttl = "1h"
    negative_ttl = "10m"
    timeout      = "3s"
    cache_size   = 100000
    # A site that does not answer three checks in a row is left alone for
    # 30s, then tried once; each failed trial doubles that, up to 5m.
    down_after   = 3
    down_for     = "30s"
    down_for_max = "5m"
  }
}

route "gcp-blobs" {
  kinds  = ["blob"]
  clouds = ["gcp"]
  to     = upstream.artifact-registry
}

route "blobs" {
  kinds    = ["blob"]
  to       = mirror
  fallback = upstream.artifact-registry
}

route "registry" {
  kinds = ["any"]
  to    = upstream.artifact-registry
}

nginx {
  listen           = ["80", "[::]:80"]
  worker_processes = "auto"
  resolver         = ["169.254.169.254"]
}

upstream "artifact-registry" {
  endpoint = "http://127.0.0.1:5000"
}
site "s3" {
  url = "http://127.0.0.1:8081/s3/${each.key}"
}
site "cloudfront" {
  url = "http://127.0.0.1:8081/cdn"
}
fastly {
  client_ip = "policy"
}

fastly {
  check     = false
  client_ip = "Fastly-Client-IP"
}

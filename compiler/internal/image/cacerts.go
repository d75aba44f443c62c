package image

import (
	"bytes"
	"encoding/pem"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// CACerts is the PEM bundle of the roots the Go team publishes from
// Mozilla's NSS store, at the version go.sum pins: the same bytes on every
// machine, where a build machine's /etc/ssl/certs would make the image
// depend on the machine and the day. A root that NSS trusts only with a
// constraint (a distrust-after date) is left out, since a PEM file cannot
// carry the constraint.
func CACerts() []byte {
	var b bytes.Buffer
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate})
	}
	return b.Bytes()
}

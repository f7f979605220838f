package creds

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/mathcrm/mathcrm/internal/secrets"
)

// ErrPeer reports a TLS peer without an acceptable certificate.
var ErrPeer = errors.New("creds: peer refused")

// need says what a configuration needs that s lacks.
func (s *Set) need(what string) error {
	if s == nil || s.cert == nil || s.roots == nil {
		return fmt.Errorf("%w: %s needs a certificate and a trust bundle (--tls-cert/--tls-key or the role's files beside --creds, and --ca)", ErrInvalid, what)
	}
	return nil
}

// Mutual returns the two sides of a mutual-TLS link between holders of
// peerRole's certificate: the server side requires a client certificate,
// each side verifies the other's against the trust bundle and refuses one
// made for another role. Host names are not checked: every holder of the
// role's certificate is that role, whatever its address. During a
// rotation both sides present the previous generation's certificate.
func (s *Set) Mutual(peerRole string) (server, client *tls.Config, err error) {
	if err := s.need("a mutual-TLS link"); err != nil {
		return nil, nil, err
	}
	verify := func(usage x509.ExtKeyUsage) func(tls.ConnectionState) error {
		return func(cs tls.ConnectionState) error {
			role, err := s.VerifyPeer(cs.PeerCertificates, usage)
			if err != nil {
				return err
			}
			if role != peerRole {
				return fmt.Errorf("%w: the peer's certificate is %s's, not %s's", ErrPeer, role, peerRole)
			}
			return nil
		}
	}
	server = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{s.serving()},
		// The chain and the role are checked in VerifyConnection.
		ClientAuth:       tls.RequireAnyClientCert,
		VerifyConnection: verify(x509.ExtKeyUsageClientAuth),
	}
	client = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{s.serving()},
		// The chain, against the trust bundle, and the role are checked in
		// VerifyConnection; only the host name check is skipped.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyConnection:   verify(x509.ExtKeyUsageServerAuth),
	}
	return server, client, nil
}

// VerifyPeer verifies a peer's certificate chain against the trust bundle
// for usage and returns the role it was made for.
func (s *Set) VerifyPeer(chain []*x509.Certificate, usage x509.ExtKeyUsage) (string, error) {
	if len(chain) == 0 {
		return "", fmt.Errorf("%w: no certificate", ErrPeer)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: s.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrPeer, err)
	}
	role, ok := secrets.RoleOf(chain[0])
	if !ok {
		return "", fmt.Errorf("%w: certificate %q names no role", ErrPeer, chain[0].Subject.CommonName)
	}
	return role, nil
}

// HTTPServer is the TLS configuration of an HTTP listener: s's certificate
// (a coordinator's is also a server certificate), and client certificates
// verified against the trust bundle when a client offers one; a client
// without one authenticates with a bearer token instead.
func (s *Set) HTTPServer() (*tls.Config, error) {
	if err := s.need("an HTTPS listener"); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{s.serving()},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    s.roots,
	}, nil
}

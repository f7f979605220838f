package creds

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/nats-io/nats.go"
)

// NATS is the connection options that authenticate as s's role (the nkey,
// the client certificate), verify the server against the trust bundle and
// take replies in the role's inbox (secrets.InboxPrefix).
// With a trust bundle the connection must be TLS: a server that offers
// none is refused. A nil s gives no options.
func (s *Set) NATS() []nats.Option {
	if s == nil {
		return nil
	}
	var opts []nats.Option
	if s.roots != nil || s.cert != nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: s.roots}
		if s.cert != nil {
			tc.Certificates = []tls.Certificate{*s.cert}
		}
		opts = append(opts, nats.Secure(tc))
	}
	if s.kp != nil {
		opts = append(opts, nats.Nkey(s.pub, s.kp.Sign))
	}
	// Replies come to the role's own inbox, the only one the server lets
	// it subscribe to.
	if s.role != "" {
		opts = append(opts, nats.CustomInboxPrefix(secrets.InboxPrefix(s.role)))
	}
	return opts
}

// Connect connects to url with s's credentials and opts; a refusal comes
// back saying which credential to check.
func (s *Set) Connect(url string, opts ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(url, append(s.NATS(), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("cannot reach NATS at %s: %w", url, s.Explain(err))
	}
	return nc, nil
}

// Explain adds to a NATS connection error which credential to look at.
func (s *Set) Explain(err error) error {
	if err == nil {
		return nil
	}
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var hint string
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked):
		if s == nil || s.kp == nil {
			hint = "the server wants credentials: set --creds (" + EnvCreds + ") to the role's nkey seed file"
		} else {
			hint = "the server does not know the nkey in " + s.Files().Creds + ": is it this cluster's, of the current generation?"
		}
	case errors.Is(err, nats.ErrSecureConnRequired):
		hint = "the server requires TLS: set --ca (" + EnvCA + ") and --creds (" + EnvCreds + ")"
	case errors.Is(err, nats.ErrSecureConnWanted):
		hint = "--ca is set, and the server offers no TLS: is this the cluster's NATS, running its nats.conf?"
	case errors.Is(err, nats.ErrNkeysNotSupported):
		hint = "--creds is set, and the server knows no nkeys: is this the cluster's NATS, running its nats.conf?"
	case errors.As(err, &unknown) && !s.Secure():
		hint = "the server's certificate is of a private CA: set --ca (" + EnvCA + ") to its ca.crt, and --creds (" + EnvCreds + ")"
	case errors.As(err, &unknown):
		hint = "the server's certificate is not signed by a CA in --ca " + s.Files().CA
	case errors.As(err, &host):
		hint = "the server's certificate does not name the host of the NATS URL: connect by a name given to mathcrm secrets init --nats-host"
	case errors.Is(err, nats.ErrTLS), strings.Contains(err.Error(), "remote error: tls:"):
		// The server's certificate checked out (the cases above): the
		// server ended the handshake, over the client's certificate.
		if s == nil || s.cert == nil {
			hint = "the server wants a client certificate: set --creds (" + EnvCreds + ") to the role's nkey seed file, with its .crt and .key beside it, or --tls-cert and --tls-key"
		} else {
			hint = "the server refused the client certificate " + s.Files().Cert + ": is it signed by the cluster's CA?"
		}
	default:
		return err
	}
	return fmt.Errorf("%w (%s)", err, hint)
}

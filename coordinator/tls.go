package coordinator

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// tlsStream is a raft StreamLayer over mutual TLS: it accepts only peers
// whose certificate the server configuration accepts and dials only peers
// the client configuration accepts (creds.Set.Mutual: a coordinator's
// certificate, signed by the cluster's CA). Without the configurations it
// is plain TCP, for a cluster without credentials.
//
// The address it advertises may be a DNS name (Config.RaftAdvertise): it is
// resolved at every dial, so a voter that comes back at another IP behind
// the same name is reached there, and a peer dialled by name must hold a
// certificate for that name.
type tlsStream struct {
	net.Listener // the TCP listener; Accept wraps its connections
	advertise    net.Addr
	server       *tls.Config
	client       *tls.Config
	// resolve, when set, maps an address to the one dialled instead (the
	// tests' name service); nil dials the address, resolving its name.
	resolve func(addr string) (string, error)
}

// handshakeTimeout bounds a TLS handshake on the raft port, so that a
// peer that connects and says nothing does not hold a goroutine.
const handshakeTimeout = 10 * time.Second

// Accept returns the next connection; its handshake runs on its first
// read, in raft's goroutine for the connection, so that one slow peer
// does not hold up the others. A refused peer's connection fails there.
func (t *tlsStream) Accept() (net.Conn, error) {
	c, err := t.Listener.Accept()
	if err != nil || t.server == nil {
		return c, err
	}
	return &handshakeConn{Conn: tls.Server(c, t.server)}, nil
}

// Addr is the address advertised to the other voters.
func (t *tlsStream) Addr() net.Addr {
	if t.advertise != nil {
		return t.advertise
	}
	return t.Listener.Addr()
}

// Dial connects to a peer and completes the handshake, so that a refused
// peer fails the dial with the reason. A peer dialled by name must hold a
// certificate for the name, besides a coordinator's.
func (t *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	target := string(addr)
	if t.resolve != nil {
		var err error
		if target, err = t.resolve(target); err != nil {
			return nil, fmt.Errorf("coordinator: raft peer %s: %w", addr, err)
		}
	}
	d := &net.Dialer{Timeout: timeout}
	if t.client == nil {
		return d.Dial("tcp", target)
	}
	cfg := t.client
	if host, _, err := net.SplitHostPort(string(addr)); err == nil && net.ParseIP(host) == nil {
		cfg = t.client.Clone()
		cfg.ServerName = host
		cfg.VerifyConnection = verifyName(host, t.client.VerifyConnection)
	}
	c, err := tls.DialWithDialer(d, "tcp", target, cfg)
	if err != nil {
		return nil, fmt.Errorf("coordinator: raft TLS to %s: %w", addr, err)
	}
	return c, nil
}

// verifyName adds to a connection's verification that the peer's
// certificate names host.
func verifyName(host string, verify func(tls.ConnectionState) error) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if verify != nil {
			if err := verify(cs); err != nil {
				return err
			}
		}
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the peer sent no certificate")
		}
		if err := cs.PeerCertificates[0].VerifyHostname(host); err != nil {
			return fmt.Errorf("the peer's certificate does not name %s, the name it was dialled by (mathcrm secrets init --host %s, or a wildcard for its domain): %w", host, host, err)
		}
		return nil
	}
}

// advertisedAddr is an address other voters dial by name.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }

// handshakeConn runs the server handshake under a deadline before its
// first read or write.
type handshakeConn struct {
	*tls.Conn
	done bool
}

func (c *handshakeConn) handshake() error {
	if c.done {
		return nil
	}
	c.done = true
	_ = c.Conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := c.Conn.Handshake(); err != nil {
		return fmt.Errorf("coordinator: raft TLS from %s refused: %w", c.Conn.RemoteAddr(), err)
	}
	return c.Conn.SetDeadline(time.Time{})
}

func (c *handshakeConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *handshakeConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// newTLSTransport is raft's network transport over mutual TLS on bind,
// advertising the address it listens on when bind's port is 0.
func newTLSTransport(bind string, server, client *tls.Config, hl hclog.Logger) (*raft.NetworkTransport, error) {
	return newStreamTransport(bind, "", server, client, nil, hl)
}

// newStreamTransport is raft's network transport on bind, over mutual TLS
// when server and client are set, advertising advertise (a host:port whose
// host may be a DNS name) or else the address bind listens on.
func newStreamTransport(bind, advertise string, server, client *tls.Config, resolve func(string) (string, error), hl hclog.Logger) (*raft.NetworkTransport, error) {
	addr, err := net.ResolveTCPAddr("tcp", bind)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	var adv net.Addr = addr
	if addr.Port == 0 {
		adv = ln.Addr()
	}
	if advertise != "" {
		adv = advertisedAddr(advertise)
	} else if a, ok := adv.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, errors.New("raft address must name an interface another voter can reach, not an unspecified one (or set the advertised address)")
	}
	stream := &tlsStream{Listener: ln, advertise: adv, server: server, client: client, resolve: resolve}
	return raft.NewNetworkTransportWithLogger(stream, 3, 10*time.Second, hl), nil
}

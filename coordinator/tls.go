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
// certificate, signed by the cluster's CA).
type tlsStream struct {
	net.Listener // the TCP listener; Accept wraps its connections
	advertise    net.Addr
	server       *tls.Config
	client       *tls.Config
}

// handshakeTimeout bounds a TLS handshake on the raft port, so that a
// peer that connects and says nothing does not hold a goroutine.
const handshakeTimeout = 10 * time.Second

// Accept returns the next connection; its handshake runs on its first
// read, in raft's goroutine for the connection, so that one slow peer
// does not hold up the others. A refused peer's connection fails there.
func (t *tlsStream) Accept() (net.Conn, error) {
	c, err := t.Listener.Accept()
	if err != nil {
		return nil, err
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
// peer fails the dial with the reason.
func (t *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	c, err := tls.DialWithDialer(d, "tcp", string(addr), t.client)
	if err != nil {
		return nil, fmt.Errorf("coordinator: raft TLS to %s: %w", addr, err)
	}
	return c, nil
}

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
	addr, err := net.ResolveTCPAddr("tcp", bind)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	var advertise net.Addr = addr
	if addr.Port == 0 {
		advertise = ln.Addr()
	}
	if a, ok := advertise.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, errors.New("raft address must name an interface another voter can reach, not an unspecified one")
	}
	stream := &tlsStream{Listener: ln, advertise: advertise, server: server, client: client}
	return raft.NewNetworkTransportWithLogger(stream, 3, 10*time.Second, hl), nil
}

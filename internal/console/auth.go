package console

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
)

// Auth says who may use an HTTP listener: a request carries a bearer
// token (Authorization: Bearer, or as the password of Basic
// authentication, so that a browser can ask for it) or a verified client
// certificate, and its role must reach the request's access class.
type Auth struct {
	// Token returns the role of a bearer token.
	Token func(token string) (role string, ok bool)
	// Cert returns the role of a client certificate the TLS handshake has
	// verified against the cluster's CA; nil accepts none.
	Cert func(chain []*x509.Certificate) (role string, ok bool)
	// Open are paths served to anyone (health and readiness).
	Open []string
}

// RoleAccess is the most each role may do over HTTP; a role not listed
// (the cluster's own processes) may do nothing.
var RoleAccess = map[string]proto.Access{
	secrets.RoleViewer:  proto.AccessRead,
	secrets.RoleAnalyst: proto.AccessAnalyze,
	secrets.RoleAdmin:   proto.AccessAdmin,
}

// Need is the access class a request needs: reading for GET and HEAD,
// and for anything else the most there is, until a handler that changes
// something says less.
func Need(r *http.Request) proto.Access {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return proto.AccessRead
	}
	return proto.AccessAdmin
}

// Wrap serves next to the requests a allows; others get 401 (no or an
// unknown credential) or 403 (a role that may not), never an echo of the
// credential.
func (a *Auth) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range a.Open {
			if r.URL.Path == p {
				next.ServeHTTP(w, r)
				return
			}
		}
		role, how, ok := a.identify(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mathcrm"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="mathcrm", charset="UTF-8"`)
			http.Error(w, "unauthorized: "+how, http.StatusUnauthorized)
			return
		}
		need := Need(r)
		if RoleAccess[role] < need {
			http.Error(w, fmt.Sprintf("forbidden: role %s may not %s %s (it needs %s access)", role, r.Method, r.URL.Path, need), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// identify returns the request's role, or why it has none.
func (a *Auth) identify(r *http.Request) (role, why string, ok bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok := ""
		if t, found := strings.CutPrefix(h, "Bearer "); found {
			tok = strings.TrimSpace(t)
		} else if _, pw, found := r.BasicAuth(); found {
			tok = pw
		} else {
			return "", "the Authorization header is neither Bearer nor Basic", false
		}
		if a.Token != nil {
			if role, ok := a.Token(tok); ok {
				return role, "", true
			}
		}
		return "", "the token is not one of this cluster's", false
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && a.Cert != nil {
		if role, ok := a.Cert(r.TLS.VerifiedChains[0]); ok {
			return role, "", true
		}
		return "", "the client certificate names no role", false
	}
	return "", "send a bearer token (Authorization: Bearer, from <role>.token) or a client certificate", false
}

package console

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAuthRoles(t *testing.T) {
	tokens := map[string]string{"tok-viewer": "viewer", "tok-analyst": "analyst", "tok-admin": "admin", "tok-worker": "worker"}
	a := &Auth{
		Token: func(tok string) (string, bool) { r, ok := tokens[tok]; return r, ok },
		Cert:  func([]*x509.Certificate) (string, bool) { return "", false },
		Open:  []string{"/healthz"},
	}
	h := a.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("page")) }))
	for _, c := range []struct {
		method, path, auth string
		want               int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/", "", 401},
		{"GET", "/", "Bearer nope", 401},
		{"GET", "/", "Token tok-viewer", 401},
		{"GET", "/", "Bearer tok-viewer", 200},
		{"HEAD", "/jobs", "Bearer tok-viewer", 200},
		{"POST", "/jobs", "Bearer tok-viewer", 403},
		{"POST", "/jobs", "Bearer tok-analyst", 403},
		{"POST", "/jobs", "Bearer tok-admin", 200},
		{"GET", "/", "Bearer tok-worker", 403},
		{"GET", "/healthz/x", "", 401},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s %s with %q: %d, want %d: %s", c.method, c.path, c.auth, w.Code, c.want, w.Body)
		}
		if strings.Contains(w.Body.String(), "tok-") {
			t.Errorf("%s %s: the answer echoes the token: %s", c.method, c.path, w.Body)
		}
		if w.Code == 401 && !strings.Contains(strings.Join(w.Header().Values("WWW-Authenticate"), ","), "Basic") {
			t.Errorf("%s %s: 401 without a Basic challenge a browser can answer", c.method, c.path)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("viewer", "tok-viewer")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("Basic with the viewer's token: %d", w.Code)
	}
}

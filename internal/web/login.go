package web

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
)

type loginData struct {
	Email, Next, Error string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := s.principal(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	v := s.newView(w, r, auth.Principal{})
	s.render(w, r, v, http.StatusOK, "login", "", loginData{Next: r.URL.Query().Get("next")})
}

// login checks the password and opens a session. Failed attempts are
// limited per client address and email, so guessing is slow, while one
// attacker cannot lock a user out from everywhere.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, auth.Principal{})
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	next := r.PostFormValue("next")
	data := loginData{Email: email, Next: next}
	key := clientIP(r) + "|" + strings.ToLower(email)
	if wait := s.limiter.blocked(key, s.now()); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		data.Error = v.T("login.too_many", int(wait.Minutes())+1)
		s.render(w, r, v, http.StatusTooManyRequests, "login", "", data)
		return
	}
	token, u, err := s.Auth.Login(r.Context(), email, password)
	if errs.Is(err, errs.Unauthorized) {
		s.limiter.fail(key, s.now())
		data.Error = v.T("login.bad")
		s.render(w, r, v, http.StatusUnauthorized, "login", "", data)
		return
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	s.limiter.reset(key)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: int(auth.SessionLifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookie(r)})
	// A language picked before logging in becomes the user's choice.
	if c, err := r.Cookie(langCookie); err == nil && u.Locale == "" {
		if l, ok := parseLocale(c.Value); ok {
			if err := s.Store.SetUserLocale(r.Context(), u.ID, l); err != nil {
				s.Log.ErrorContext(r.Context(), "save user locale", "err", err)
			}
		}
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.Auth.Logout(r.Context(), c.Value); err != nil {
			s.Log.ErrorContext(r.Context(), "logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookie(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) || strings.HasPrefix(next, "/login") {
		return "/customers"
	}
	return next
}

// clientIP is the connection's address. Forwarding headers are not trusted:
// anyone can send them.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts failed logins per key in a sliding window, in memory.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}}
}

// blocked returns how long key must wait, or 0 when it may try.
func (l *limiter) blocked(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.recent(key, now)
	if len(ts) < l.max {
		return 0
	}
	return ts[0].Add(l.window).Sub(now)
}

func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[key] = append(l.recent(key, now), now)
	if len(l.fails) > 10000 { // drop stale keys so memory stays bounded
		for k := range l.fails {
			if len(l.recent(k, now)) == 0 {
				delete(l.fails, k)
			}
		}
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// recent returns key's failures inside the window; the caller holds mu.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = ts
	return ts
}

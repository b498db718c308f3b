// Package auth knows who is calling and what they may do: users and their
// roles, password hashing, API keys, browser sessions, and the permission
// each role grants. Secrets are only ever stored hashed.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/rapportcrm/rapport/internal/customer"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/store"
)

// Role is what a user or key is allowed to do.
type Role string

// The roles, from most to least powerful.
const (
	Admin   Role = "admin"
	Manager Role = "manager"
	Rep     Role = "rep"
	Analyst Role = "analyst"
	Viewer  Role = "viewer"
)

// Roles lists every role.
var Roles = []Role{Admin, Manager, Rep, Analyst, Viewer}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", errs.E(errs.Invalid, "role %q must be one of admin, manager, rep, analyst, viewer", s)
	}
	return r, nil
}

// Permission names one kind of action.
type Permission string

// The permissions roles grant.
const (
	ReadCustomers   Permission = "customers:read"
	WriteCustomers  Permission = "customers:write"
	DeleteCustomers Permission = "customers:delete"
	ReadFields      Permission = "fields:read"
	WriteFields     Permission = "fields:write"
	ManageUsers     Permission = "users:manage"
	ReadAudit       Permission = "audit:read"
	ReadAnalytics   Permission = "analytics:read"
	WriteEvents     Permission = "events:write"
	ManageSettings  Permission = "settings:manage"
	// WriteTargeting creates segments, lists, experiments and initiatives.
	WriteTargeting Permission = "targeting:write"
)

var grants = map[Role][]Permission{
	Admin:   {ReadCustomers, WriteCustomers, DeleteCustomers, ReadFields, WriteFields, ManageUsers, ReadAudit, ReadAnalytics, WriteEvents, ManageSettings, WriteTargeting},
	Manager: {ReadCustomers, WriteCustomers, DeleteCustomers, ReadFields, ReadAudit, ReadAnalytics, WriteEvents, WriteTargeting},
	Rep:     {ReadCustomers, WriteCustomers, ReadFields, WriteEvents},
	Analyst: {ReadCustomers, ReadFields, ReadAnalytics, WriteTargeting},
	Viewer:  {ReadCustomers, ReadFields, ReadAnalytics},
}

// Can reports whether the role grants p.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[r], p) }

// Principal is an authenticated caller.
type Principal struct {
	UserID string `json:"user_id,omitempty"`
	KeyID  string `json:"key_id,omitempty"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	Locale string `json:"locale,omitempty"`
}

// Actor is the principal as recorded in the audit log.
func (p Principal) Actor() store.Actor {
	if p.KeyID != "" {
		return store.Actor{ID: p.KeyID, Kind: "api_key"}
	}
	return store.Actor{ID: p.UserID, Kind: "user"}
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// argon2id parameters (OWASP's recommended minimum: 19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword hashes a password with argon2id and a random salt, in the
// PHC string format.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches a hash from HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// HashSecret hashes a high-entropy random secret (API key, session token).
// A fast hash is right here: the secret itself cannot be guessed.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// randomToken returns n random bytes, URL-safe encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// GeneratePassword returns a random password for a new user.
func GeneratePassword() string { return randomToken(15) }

// Service creates and checks credentials against the store.
type Service struct {
	Store *store.Store
	Now   func() time.Time
	// cache remembers recently checked credentials (by secret hash) for
	// CacheTTL, sparing a query per request. Logout evicts at once; a key
	// revoked elsewhere stops working within CacheTTL.
	cache sync.Map
}

// CacheTTL bounds how long a checked credential is trusted without asking
// the database again.
const CacheTTL = 30 * time.Second

type cached struct {
	p       Principal
	expires time.Time
}

func (s *Service) cachedPrincipal(hash string) (Principal, bool) {
	v, ok := s.cache.Load(hash)
	if !ok {
		return Principal{}, false
	}
	c := v.(cached)
	if s.now().After(c.expires) {
		s.cache.Delete(hash)
		return Principal{}, false
	}
	return c.p, true
}

func (s *Service) remember(hash string, p Principal) {
	s.cache.Store(hash, cached{p: p, expires: s.now().Add(CacheTTL)})
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now().UTC()
}

// CreateUser stores a new user with the given password.
func (s *Service) CreateUser(ctx context.Context, email, name string, role Role, password string) (store.User, error) {
	e, err := customer.NormalizeEmail(email)
	if err != nil {
		return store.User{}, errs.Validation(errs.FieldError{Field: "body.email", Message: err.Error(), Value: email})
	}
	if len(password) < 8 {
		return store.User{}, errs.Validation(errs.FieldError{Field: "body.password", Message: "must be at least 8 characters"})
	}
	u := store.User{ID: customer.NewID(), Email: e, Name: customer.NormalizeText(name), Role: string(role),
		PasswordHash: HashPassword(password), CreatedAt: s.now()}
	return u, s.Store.CreateUser(ctx, u)
}

// CreateAPIKey makes a new key and returns its secret, shown once.
func (s *Service) CreateAPIKey(ctx context.Context, name string, role Role, createdBy string) (store.APIKey, string, error) {
	secret := "rpk_" + randomToken(24)
	k := store.APIKey{ID: customer.NewID(), Name: customer.NormalizeText(name), Role: string(role), Prefix: secret[:8],
		Hash: HashSecret(secret), CreatedBy: createdBy, CreatedAt: s.now()}
	if k.Name == "" {
		return k, "", errs.Validation(errs.FieldError{Field: "body.name", Message: "is required"})
	}
	return k, secret, s.Store.CreateAPIKey(ctx, k)
}

// errBadLogin is the same for an unknown email and a wrong password, so the
// answer does not reveal which emails have accounts.
var errBadLogin = errs.E(errs.Unauthorized, "wrong email or password")

// Login checks a password and opens a session, returning its token.
func (s *Service) Login(ctx context.Context, email, password string) (string, store.User, error) {
	e, err := customer.NormalizeEmail(email)
	if err != nil {
		return "", store.User{}, errBadLogin
	}
	u, err := s.Store.UserByEmail(ctx, e)
	if errs.Is(err, errs.NotFound) {
		CheckPassword(dummyHash, password) // spend the same time as a real check
		return "", u, errBadLogin
	}
	if err != nil {
		return "", u, err
	}
	if u.DisabledAt != nil || !CheckPassword(u.PasswordHash, password) {
		return "", u, errBadLogin
	}
	token := randomToken(32)
	now := s.now()
	err = s.Store.CreateSession(ctx, store.Session{TokenHash: HashSecret(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)})
	return token, u, err
}

// SessionLifetime is how long a login lasts.
const SessionLifetime = 7 * 24 * time.Hour

var dummyHash = HashPassword("not a real password")

// Logout ends the session with the given token.
func (s *Service) Logout(ctx context.Context, token string) error {
	s.cache.Delete(HashSecret(token))
	return s.Store.DeleteSession(ctx, HashSecret(token))
}

// Session resolves a session token to its user.
func (s *Service) Session(ctx context.Context, token string) (Principal, error) {
	hash := HashSecret(token)
	if p, ok := s.cachedPrincipal(hash); ok {
		return p, nil
	}
	sess, err := s.Store.SessionByHash(ctx, hash, s.now())
	if err != nil {
		return Principal{}, err
	}
	u, err := s.Store.UserByID(ctx, sess.UserID)
	if err != nil || u.DisabledAt != nil {
		return Principal{}, errs.E(errs.Unauthorized, "session user is gone or disabled")
	}
	p := Principal{UserID: u.ID, Name: u.Email, Role: Role(u.Role), Locale: u.Locale}
	if sess.ExpiresAt.After(s.now().Add(CacheTTL)) {
		s.remember(hash, p)
	}
	return p, nil
}

// APIKey resolves an API key secret.
func (s *Service) APIKey(ctx context.Context, secret string) (Principal, error) {
	hash := HashSecret(secret)
	if p, ok := s.cachedPrincipal(hash); ok {
		return p, nil
	}
	k, err := s.Store.APIKeyByHash(ctx, hash)
	if err != nil {
		return Principal{}, err
	}
	// A key acts for the user who made it (ownership, rep restrictions).
	p := Principal{KeyID: k.ID, UserID: k.CreatedBy, Name: k.Name, Role: Role(k.Role)}
	s.remember(hash, p)
	return p, nil
}

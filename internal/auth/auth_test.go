package auth_test

import (
	"context"
	"testing"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/errs"
	"github.com/rapportcrm/rapport/internal/storetest"
)

func TestPasswordHashing(t *testing.T) {
	h := auth.HashPassword("correct horse")
	if !auth.CheckPassword(h, "correct horse") || auth.CheckPassword(h, "correct horsE") {
		t.Fatal("password check is wrong")
	}
	if h == auth.HashPassword("correct horse") {
		t.Fatal("hashes must be salted")
	}
}

func TestRolesGrantPermissions(t *testing.T) {
	for _, tc := range []struct {
		role auth.Role
		perm auth.Permission
		want bool
	}{
		{auth.Admin, auth.ManageUsers, true},
		{auth.Manager, auth.ManageUsers, false},
		{auth.Rep, auth.WriteCustomers, true},
		{auth.Rep, auth.DeleteCustomers, false},
		{auth.Analyst, auth.WriteCustomers, false},
		{auth.Viewer, auth.ReadCustomers, true},
		{auth.Viewer, auth.ReadAudit, false},
	} {
		if got := tc.role.Can(tc.perm); got != tc.want {
			t.Errorf("%s can %s = %v, want %v", tc.role, tc.perm, got, tc.want)
		}
	}
	if _, err := auth.ParseRole("root"); !errs.Is(err, errs.Invalid) {
		t.Fatal("unknown role accepted")
	}
}

func TestLoginSessionsAndKeys(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			svc := &auth.Service{Store: e.Store}
			u, err := svc.CreateUser(ctx, " Admin@Example.com ", "Admin", auth.Admin, "s3cret-pass")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CreateUser(ctx, "admin@example.com", "", auth.Rep, "another-pass"); !errs.Is(err, errs.Conflict) {
				t.Fatalf("duplicate email: %v", err)
			}
			if _, _, err := svc.Login(ctx, "admin@example.com", "wrong"); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("wrong password: %v", err)
			}
			if _, _, err := svc.Login(ctx, "nobody@example.com", "s3cret-pass"); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("unknown user: %v", err)
			}
			token, _, err := svc.Login(ctx, "ADMIN@example.com", "s3cret-pass")
			if err != nil {
				t.Fatal(err)
			}
			p, err := svc.Session(ctx, token)
			if err != nil || p.UserID != u.ID || p.Role != auth.Admin {
				t.Fatalf("session: %v %+v", err, p)
			}
			if err := svc.Logout(ctx, token); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Session(ctx, token); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("session after logout: %v", err)
			}
			k, secret, err := svc.CreateAPIKey(ctx, "etl", auth.Rep, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if k.Hash == secret {
				t.Fatal("key stored in clear")
			}
			p, err = svc.APIKey(ctx, secret)
			if err != nil || p.Role != auth.Rep || p.KeyID != k.ID {
				t.Fatalf("api key: %v %+v", err, p)
			}
			if _, err := svc.APIKey(ctx, secret+"x"); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("bad key: %v", err)
			}
		})
	}
}

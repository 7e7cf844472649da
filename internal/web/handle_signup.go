package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
)

type signupPage struct {
	Closed       bool
	Organization string
	Name         string
	Email        string
	Error        string
}

func (s *Server) handleSignupPage(w http.ResponseWriter, r *http.Request) error {
	if phantomos.ActorFrom(r.Context()) != nil {
		http.Redirect(w, r, "/overview", http.StatusSeeOther)
		return nil
	}
	data := s.pageData(r, "Create your organization", "")
	data.Data = signupPage{Closed: s.cfg.Signup != "open"}
	return s.render(w, http.StatusOK, "signup", data)
}

// handleSignup creates a publisher and its owner, then signs the owner in.
func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Signup != "open" {
		return phantomos.Errorf(phantomos.EFORBIDDEN, "Sign-up is closed on this installation. Ask an admin of your team for an invitation.")
	}
	f := signupPage{
		Organization: strings.TrimSpace(r.PostFormValue("organization")),
		Name:         strings.TrimSpace(r.PostFormValue("name")),
		Email:        strings.TrimSpace(r.PostFormValue("email")),
	}
	password := r.PostFormValue("password")
	fail := func(status int, err error) error {
		if phantomos.ErrorCode(err) == phantomos.EINTERNAL {
			return err
		}
		f.Error = phantomos.ErrorMessage(err)
		data := s.pageData(r, "Create your organization", "")
		data.Data = f
		return s.render(w, status, "signup", data)
	}
	// Every attempt counts, successful or not (sign-up creates tenants),
	// and is counted before it is made, so parallel ones cannot all pass.
	ip := clientIP(r)
	if _, ok := throttled(w, s.signupByIP.Reserve(ip)); ok {
		return fail(http.StatusTooManyRequests, phantomos.Errorf(phantomos.ERATELIMIT, "Too many sign-ups from your network. Try again later."))
	}
	if f.Organization == "" || f.Email == "" {
		return fail(http.StatusUnprocessableEntity, phantomos.Errorf(phantomos.EINVALID, "Enter your organization's name and your email."))
	}
	if err := auth.CheckPasswordPolicy(password, f.Email); err != nil {
		return fail(http.StatusUnprocessableEntity, err)
	}
	hash, err := s.hashPassword(w, r, password)
	if errors.Is(err, auth.ErrBusy) {
		return fail(http.StatusTooManyRequests, err)
	}
	if err != nil {
		return err
	}
	pub, u, err := s.createPublisherWithOwner(r, f.Organization, f.Name, f.Email, hash)
	if err != nil {
		status := http.StatusUnprocessableEntity
		if phantomos.ErrorCode(err) == phantomos.ECONFLICT {
			// Say the same as for any other invalid sign-up: whether an email
			// has an account is not for strangers to learn.
			err = phantomos.Errorf(phantomos.ECONFLICT, "This email cannot be used to sign up. If it is yours, sign in instead.")
		}
		return fail(status, err)
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	s.auditAs(r, u, "organization.create", map[string]any{"publisher": pub.Name, "slug": pub.Slug})
	next := "/overview"
	if hasPendingInstall(r) {
		next = claimPath // a store installed from Shopify waits for this new organization
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// createPublisherWithOwner creates a publisher with a slug derived from its
// name (made unique with a number) and its owner. If the owner cannot be
// created, the publisher is removed again.
func (s *Server) createPublisherWithOwner(r *http.Request, org, name, email, hash string) (*phantomos.Publisher, *phantomos.User, error) {
	ctx := r.Context()
	if _, _, err := s.store.UserForLogin(ctx, email); err == nil {
		return nil, nil, phantomos.Errorf(phantomos.ECONFLICT, "Email taken.")
	}
	base := slugify(org)
	var pub *phantomos.Publisher
	for i := 1; ; i++ {
		slug := base
		if i > 1 {
			slug = base + "-" + strconv.Itoa(i)
		}
		pub = &phantomos.Publisher{Name: org, Slug: slug}
		err := s.store.CreatePublisher(ctx, pub)
		if err == nil {
			break
		}
		if phantomos.ErrorCode(err) != phantomos.ECONFLICT || i > 50 {
			return nil, nil, err
		}
	}
	u := &phantomos.User{Email: email, Name: name, Role: phantomos.RoleOwner}
	if err := s.store.CreateUser(ctx, pub.ID, u, hash); err != nil {
		s.store.DeletePublisher(ctx, pub.ID)
		return nil, nil, err
	}
	return pub, u, nil
}

// slugify turns a name into a slug: "Nébula Forge Games!" → "nebula-forge-games".
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 48 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) < 2 {
		s = "org-" + strings.ToLower(phantomos.NewID()[24:32])
	}
	return s
}

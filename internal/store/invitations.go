package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// Invitation is an offer to join a publisher's team. Only the SHA-256 of
// its token is stored.
type Invitation struct {
	ID            string
	PublisherID   phantomos.PublisherID
	PublisherName string
	Email         string
	Role          phantomos.Role
	Status        string // pending, accepted, expired, revoked
	ExpiresAt     time.Time
	InvitedBy     string // user id
	InviterName   string
	InviterEmail  string
	CreatedAt     time.Time
	// EmailState is where its email stands: "" (not emailed),
	// EmailQueued, EmailRetrying, EmailSent or EmailFailed; EmailError is
	// the last failure's reason and EmailedAt when it was sent.
	EmailState string
	EmailError string
	EmailedAt  *time.Time
}

// States of an invitation's email.
const (
	EmailQueued   = "queued"
	EmailRetrying = "retrying"
	EmailSent     = "sent"
	EmailFailed   = "failed"
)

// maxEmailError bounds a stored email failure.
const maxEmailError = 500

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

const invitationSelect = `SELECT i.id, i.publisher_id, p.name, i.email, i.role, i.status, i.expires_at,
		COALESCE(CAST(i.invited_by AS TEXT), ''), COALESCE(u.name, ''), COALESCE(u.email, ''), i.created_at,
		i.email_state, i.email_error, i.emailed_at
	FROM invitations i JOIN publishers p ON p.id = i.publisher_id
	LEFT JOIN users u ON u.id = i.invited_by AND u.publisher_id = i.publisher_id`

func scanInvitation(row interface{ Scan(...any) error }, now time.Time) (*Invitation, error) {
	var inv Invitation
	if err := row.Scan(&inv.ID, &inv.PublisherID, &inv.PublisherName, &inv.Email, &inv.Role, &inv.Status, &inv.ExpiresAt,
		&inv.InvitedBy, &inv.InviterName, &inv.InviterEmail, &inv.CreatedAt, &inv.EmailState, &inv.EmailError, &inv.EmailedAt); err != nil {
		return nil, err
	}
	if inv.Status == "pending" && !now.Before(inv.ExpiresAt) {
		inv.Status = "expired"
	}
	return &inv, nil
}

// CreateInvitation stores a pending invitation of publisher pub whose
// token hashes to tokenHash. Inviting an owner is not possible (ownership is
// transferred, not invited); inviting a member of the same team is
// ECONFLICT. An address with an account in another publisher is invited
// like any other: the answer must not tell the inviter which addresses have
// accounts elsewhere, so that conflict is reported to the invitee when they
// accept (AcceptInvitation). A pending invitation to the same email is
// replaced.
func (s *Store) CreateInvitation(ctx context.Context, pub phantomos.PublisherID, invitedBy, email string, role phantomos.Role, tokenHash string) (*Invitation, error) {
	email = FoldEmail(email)
	if role == phantomos.RoleOwner {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Owners are not invited: invite an admin, then transfer ownership.")
	}
	if _, err := phantomos.ParseRole(string(role)); err != nil {
		return nil, err
	}
	if len(email) < 3 || len(email) > 254 || !validEmail(email) {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Email %q is not a valid address.", email)
	}
	now := s.nowUTC()
	id := phantomos.NewID()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE publisher_id = $1 AND email = $2`, pub, email).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return phantomos.Errorf(phantomos.ECONFLICT, "%s is already a member of your team.", email)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET status = 'revoked', updated_at = $3
			WHERE publisher_id = $1 AND email = $2 AND status = 'pending'`, pub, email, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO invitations (id, publisher_id, email, role, token_hash, status, expires_at, invited_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8)`, id, pub, email, role, tokenHash, now.Add(InvitationTTL), nullID(invitedBy), now)
		return err
	})
	if phantomos.ErrorCode(err) != phantomos.EINTERNAL && err != nil {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("store: create invitation: %w", err)
	}
	return s.Invitation(ctx, pub, id)
}

// Invitation returns invitation id of publisher pub.
func (s *Store) Invitation(ctx context.Context, pub phantomos.PublisherID, id string) (*Invitation, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Invitation not found.")
	}
	inv, err := scanInvitation(s.db.QueryRowContext(ctx, invitationSelect+` WHERE i.publisher_id = $1 AND i.id = $2`, pub, id), s.nowUTC())
	if err != nil {
		return nil, notFound(err, "Invitation")
	}
	return inv, nil
}

// InvitationByToken returns the invitation whose token hashes to tokenHash,
// whatever its status.
func (s *Store) InvitationByToken(ctx context.Context, tokenHash string) (*Invitation, error) {
	inv, err := scanInvitation(s.db.QueryRowContext(ctx, invitationSelect+` WHERE i.token_hash = $1`, tokenHash), s.nowUTC())
	if err != nil {
		return nil, notFound(err, "Invitation")
	}
	return inv, nil
}

// Invitations lists the pending invitations of publisher pub, newest first.
func (s *Store) Invitations(ctx context.Context, pub phantomos.PublisherID) ([]*Invitation, error) {
	rows, err := s.db.QueryContext(ctx, invitationSelect+` WHERE i.publisher_id = $1 AND i.status = 'pending' ORDER BY i.created_at DESC`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: invitations: %w", err)
	}
	defer rows.Close()
	var out []*Invitation
	now := s.nowUTC()
	for rows.Next() {
		inv, err := scanInvitation(rows, now)
		if err != nil {
			return nil, fmt.Errorf("store: invitations: %w", err)
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// SetInvitationEmail records where invitation id's email stands: state
// (one of the Email constants) and, for a failure, its reason (clipped).
// Sent records the time.
func (s *Store) SetInvitationEmail(ctx context.Context, pub phantomos.PublisherID, id, state, reason string) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Invitation not found.")
	}
	switch state {
	case EmailQueued, EmailRetrying, EmailSent, EmailFailed:
	default:
		return fmt.Errorf("store: invitation email state %q", state)
	}
	if len(reason) > maxEmailError {
		reason = reason[:maxEmailError]
	}
	now := s.nowUTC()
	var sent *time.Time
	if state == EmailSent {
		sent = &now
	}
	res, err := s.exec(ctx, `UPDATE invitations SET email_state = $3, email_error = $4, emailed_at = COALESCE($5, emailed_at), updated_at = $6
		WHERE publisher_id = $1 AND id = $2`, pub, id, state, reason, sent, now)
	if err != nil {
		return fmt.Errorf("store: invitation email: %w", err)
	}
	return affected(res, "Invitation")
}

// RevokeInvitation withdraws a pending invitation.
func (s *Store) RevokeInvitation(ctx context.Context, pub phantomos.PublisherID, id string) error {
	if !phantomos.ValidID(id) {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Invitation not found.")
	}
	res, err := s.exec(ctx, `UPDATE invitations SET status = 'revoked', updated_at = $3 WHERE publisher_id = $1 AND id = $2 AND status = 'pending'`,
		pub, id, s.nowUTC())
	if err != nil {
		return fmt.Errorf("store: revoke invitation: %w", err)
	}
	return affected(res, "Pending invitation")
}

// RenewInvitation gives a pending invitation a new token and a fresh
// expiry, for "resend".
func (s *Store) RenewInvitation(ctx context.Context, pub phantomos.PublisherID, id, tokenHash string) (*Invitation, error) {
	if !phantomos.ValidID(id) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Invitation not found.")
	}
	now := s.nowUTC()
	res, err := s.exec(ctx, `UPDATE invitations SET token_hash = $3, expires_at = $4, updated_at = $5
		WHERE publisher_id = $1 AND id = $2 AND status = 'pending'`, pub, id, tokenHash, now.Add(InvitationTTL), now)
	if err != nil {
		return nil, fmt.Errorf("store: renew invitation: %w", err)
	}
	if err := affected(res, "Pending invitation"); err != nil {
		return nil, err
	}
	return s.Invitation(ctx, pub, id)
}

// AcceptInvitation redeems the invitation whose token hashes to tokenHash:
// it creates the user with the invited email and role and marks the
// invitation accepted, in one transaction. The status change is
// conditional, so of two concurrent redemptions exactly one succeeds.
func (s *Store) AcceptInvitation(ctx context.Context, tokenHash, name, passwordHash string) (*phantomos.User, error) {
	now := s.nowUTC()
	var u *phantomos.User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var inv Invitation
		err := tx.QueryRowContext(ctx, `UPDATE invitations SET status = 'accepted', updated_at = $2
			WHERE token_hash = $1 AND status = 'pending' AND expires_at > $2
			RETURNING id, publisher_id, email, role`, tokenHash, now).Scan(&inv.ID, &inv.PublisherID, &inv.Email, &inv.Role)
		if err != nil {
			if e := notFound(err, "Invitation"); phantomos.ErrorCode(e) == phantomos.ENOTFOUND {
				return phantomos.Errorf(phantomos.ENOTFOUND, "This invitation is not valid: it may have expired, been used or been revoked.")
			}
			return err
		}
		u = &phantomos.User{ID: phantomos.NewID(), PublisherID: inv.PublisherID, Email: inv.Email, Name: name, Role: inv.Role, CreatedAt: now}
		_, err = tx.ExecContext(ctx, `INSERT INTO users (id, publisher_id, email, name, password_hash, role, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, u.ID, u.PublisherID, u.Email, u.Name, passwordHash, u.Role, now)
		if isUniqueViolation(err) {
			// Only the holder of the invitation learns this, and the
			// invitation stays pending (the transaction is undone).
			return phantomos.Errorf(phantomos.ECONFLICT, "%s already has a PhantomOS account, and an account belongs to one organization. "+
				"Sign in with it, or ask whoever invited you to invite another address.", inv.Email)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE invitations SET accepted_by = $2 WHERE id = $1`, inv.ID, u.ID)
		return err
	})
	if err != nil {
		if phantomos.ErrorCode(err) != phantomos.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("store: accept invitation: %w", err)
	}
	return u, nil
}

func nullID(id string) any {
	if id == "" {
		return nil
	}
	return id
}

func validEmail(e string) bool {
	at := -1
	for i, c := range e {
		if c == '@' {
			if at >= 0 {
				return false
			}
			at = i
		}
		if c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' {
			return false
		}
	}
	return at > 0 && at < len(e)-3 && containsDot(e[at+1:])
}

func containsDot(s string) bool {
	for i := 1; i < len(s)-1; i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

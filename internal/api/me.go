package api

import (
	"net/http"
)

type meResponse struct {
	User      userJSON      `json:"user"`
	Publisher publisherJSON `json:"publisher"`
}

type userJSON struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	Role  string `json:"role"`
}

type publisherJSON struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Slug              string `json:"slug"`
	ReportingCurrency string `json:"reporting_currency"`
	Timezone          string `json:"timezone"`
	SubscriptionTier  string `json:"subscription_tier"`
}

// HandleMe serves GET /api/v1/me: who the caller is and in which publisher.
func (h *Handler) HandleMe(w http.ResponseWriter, r *http.Request) error {
	a := actor(r.Context())
	pub, err := h.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, meResponse{
		User: userJSON{ID: a.UserID, Email: a.Email, Name: a.Name, Role: string(a.Role)},
		Publisher: publisherJSON{ID: string(pub.ID), Name: pub.Name, Slug: pub.Slug, ReportingCurrency: pub.ReportingCurrency,
			Timezone: pub.Timezone, SubscriptionTier: pub.SubscriptionTier},
	})
}

package web

import (
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/platforms"
	"github.com/phantomos/phantomos/internal/ingest"
)

// Route is one registered pattern and the permission it needs.
type Route struct {
	Pattern string
	Perm    phantomos.Permission
	handler handlerFunc
}

// Routes lists every route of the server: the whole HTTP surface and its
// access rules. Tests walk it for every role and publisher.
func (s *Server) Routes() []Route { return s.routes() }

func (s *Server) routes() []Route {
	const (
		public = phantomos.PermPublic
		view   = phantomos.PermView
		team   = phantomos.PermTeam
		edit   = phantomos.PermEdit
		conns  = phantomos.PermConnectors
		owner  = phantomos.PermOrganization
	)
	return append([]Route{
		// Operations.
		{"GET /healthz", public, s.handleHealthz},
		{"GET /readyz", public, s.handleReadyz},
		{"GET /metrics", public, s.handleMetrics},

		// Sign-in, sign-up, invitations.
		{"GET /{$}", public, s.handleRoot},
		{"GET /login", public, s.handleLoginPage},
		{"POST /login", public, s.handleLogin},
		{"GET /login/2fa", public, s.handleTwoFactorPage},
		{"POST /login/2fa", public, s.handleTwoFactor},
		{"POST /login/demo", public, s.handleDemoLogin},
		{"POST /login/demo/copy", public, s.handleDemoCopy},
		{"POST /logout", public, s.handleLogout},
		{"GET /signup", public, s.handleSignupPage},
		{"POST /signup", public, s.handleSignup},
		{"GET /invite", public, s.handleInvitePage},
		{"POST /invite", public, s.handleInviteAccept},

		// Application pages.
		{"GET /overview", view, s.handleOverview},
		{"GET /overview.csv", view, s.handleOverviewCSV},
		{"GET /assets", view, s.handleAssets},
		{"GET /assets.csv", view, s.handleAssetsCSV},
		{"GET /assets/compare", view, s.handleCompare},
		{"GET /assets/{id}", view, s.handleAsset},
		{"GET /intelligence", view, s.handleIntelligencePage},
		{"GET /ask", view, s.handleAskPage},
		{"POST /intelligence/generate", edit, s.handleIntelligenceGenerate},
		{"POST /intelligence/insights/{id}/status", edit, s.handleInsightStatus},
		{"GET /products", view, s.handleProducts},
		{"POST /products/suggest", edit, s.handleProductsSuggest},
		{"POST /products/bulk", edit, s.handleProductsBulk},
		{"GET /products/{id}", view, s.handleProduct},
		{"POST /products/{id}/review", edit, s.handleProductReview},
		{"GET /catalog", view, s.handleCatalog},
		{"POST /catalog/game-ips", edit, s.handleGameIPCreate},
		{"GET /catalog/game-ips/{id}", view, s.handleGameIP},
		{"POST /catalog/game-ips/{id}", edit, s.handleGameIPSave},
		{"POST /catalog/game-ips/{id}/archive", edit, s.handleGameIPArchive},
		{"POST /catalog/assets", edit, s.handleAssetCreate},
		{"GET /catalog/assets/{id}", view, s.handleCatalogAsset},
		{"POST /catalog/assets/{id}", edit, s.handleAssetSave},
		{"POST /catalog/assets/{id}/archive", edit, s.handleAssetArchive},
		{"POST /catalog/assets/{id}/merge", edit, s.handleAssetMerge},
		{"POST /products/import", edit, s.handleImportUpload},
		{"POST /products/import/confirm", edit, s.handleImportConfirm},
		{"GET /products/import/errors.csv", edit, s.handleImportErrors},
		{"GET /products/import/jobs/{id}", edit, s.handleImportJob},
		{"GET /products/import/jobs/{id}/progress", edit, s.handleImportJobProgress},
		{"POST /products/import/jobs/{id}/cancel", edit, s.handleImportJobCancel},
		{"GET /connectors", view, s.handleConnectors},
		{"GET /connectors/new", conns, s.handleConnectorNew},
		{"GET /connectors/new/pull", conns, s.handlePullNew},
		{"POST /connectors/pull", conns, s.handlePullCreate},
		{"POST /connectors/{id}/pull", conns, s.handlePullNow},
		{"GET /connectors/{id}/pull/edit", conns, s.handlePullEdit},
		{"POST /connectors/{id}/pull/edit", conns, s.handlePullUpdate},
		{"POST /connectors/{id}/key", team, s.handleCustomConnectorKey},
		// The claim of an install started from a platform before anyone
		// signed in (Host.Park).
		{"GET /connectors/claim", conns, s.handleClaimPage},
		{"POST /connectors/claim", conns, s.handleClaim},
		{"GET /connectors/{id}", view, s.handleConnector},
		{"GET /connectors/{id}/setup", conns, s.handleConnectorSetup},
		{"GET /connectors/{id}/reconnect", conns, s.handleConnectorReconnect},
		{"POST /connectors/{id}/sync", conns, s.handleConnectorSync},
		{"POST /connectors/{id}/sync/cancel", conns, s.handleConnectorSyncCancel},
		{"POST /connectors/{id}/disconnect", conns, s.handleConnectorDisconnect},

		// Settings: your own account (the demo account is read-only).
		{"GET /settings/{$}", view, s.handleSettingsIndex},
		{"GET /settings/profile", view, s.handleProfile},
		{"POST /settings/profile", view, s.handleProfileSave},
		{"GET /settings/security", view, s.handleSecurity},
		{"POST /settings/security/password", view, s.handlePasswordChange},
		{"POST /settings/security/sign-out-everywhere", view, s.handleSignOutEverywhere},
		{"POST /settings/security/2fa/start", view, s.handleTOTPStart},
		{"POST /settings/security/2fa/enable", view, s.handleTOTPEnable},
		{"POST /settings/security/2fa/disable", view, s.handleTOTPDisable},
		{"GET /settings/notifications", view, s.handleNotifications},
		{"POST /settings/notifications", view, s.handleNotificationCreate},
		{"POST /settings/notifications/digest", view, s.handleWeeklyDigest},
		{"POST /settings/notifications/{id}/delete", view, s.handleNotificationDelete},
		// Scheduled reports: owners and admins choose what is mailed to the team.
		{"POST /settings/reports", team, s.handleReportCreate},
		{"POST /settings/reports/{id}/delete", team, s.handleReportDelete},
		// The weekly digest's unsubscribe link: public, its sealed token is
		// the authority (RFC 8058 one-click posts here too).
		{"GET /unsubscribe", public, s.handleUnsubscribePage},
		{"POST /unsubscribe", public, s.handleUnsubscribe},

		// Settings: the team, keys and audit log (owners and admins).
		{"GET /settings/team", team, s.handleTeam},
		{"POST /settings/team/invite", team, s.handleTeamInvite},
		{"POST /settings/team/invitations/{id}/revoke", team, s.handleTeamInvitationRevoke},
		{"POST /settings/team/invitations/{id}/resend", team, s.handleTeamInvitationResend},
		{"POST /settings/team/members/{id}/role", team, s.handleTeamRole},
		{"POST /settings/team/members/{id}/remove", team, s.handleTeamRemove},
		{"POST /settings/team/transfer", owner, s.handleTeamTransfer},
		{"GET /settings/api-keys", team, s.handleAPIKeys},
		{"POST /settings/api-keys", team, s.handleAPIKeyCreate},
		{"POST /settings/api-keys/{id}/revoke", team, s.handleAPIKeyRevoke},
		{"GET /settings/audit", team, s.handleAudit},
		{"GET /settings/audit.csv", team, s.handleAuditCSV},

		// Settings: the organization (admins read, owners change).
		{"GET /settings/organization", team, s.handleOrganization},
		{"POST /settings/organization", owner, s.handleOrganizationSave},
		{"POST /settings/organization/delete", owner, s.handleOrganizationDelete},

		// JSON API.
		{"GET /api/openapi.json", public, s.api.HandleOpenAPI},
		{"GET /api/v1/me", view, s.api.HandleMe},
		{"GET /api/v1/connectors", view, s.handleAPIConnectors},
		{"GET /api/v1/connectors/{id}", view, s.handleAPIConnector},
		{"GET /api/analytics", view, s.handleAPIAnalytics},
		{"GET /api/analytics/assets", view, s.handleAPIAssets},
		{"GET /api/v1/analytics/assets/{id}", view, s.handleAPIAsset},
		{"GET /api/v1/analytics/compare", view, s.handleAPICompare},
		{"POST /api/products/import", edit, s.apiImport(ingest.KindProducts)},
		{"GET /api/products/mapping", view, s.handleAPIMappingList},
		{"POST /api/products/mapping", edit, s.handleAPIMappingSave},
		{"POST /api/products/mapping/bulk", edit, s.handleAPIMappingBulk},
		{"POST /api/ai/tagging", edit, s.handleAPITagging},
		{"POST /api/sales/import", edit, s.apiImport(ingest.KindSales)},
		// The push API: the only routes an ingest-scoped key may use.
		{"POST /api/v1/orders", edit, s.admitPush(s.handlePushOrders)},
		{"POST /api/v1/products", edit, s.admitPush(s.handlePushProducts)},
		{"DELETE /api/v1/orders/{source}/{order_id}", edit, s.admitPush(s.handleDeleteOrder)},
		{"GET /api/ai/insights", view, s.handleAPIInsightsList},
		{"POST /api/ai/insights", edit, s.handleAPIInsightsGenerate},
		{"GET /api/v1/jobs/{id}", view, s.handleAPIJob},
		{"POST /api/ai/forecast", view, s.handleAPIForecast},
		{"POST /api/v1/ask", view, s.handleAPIAsk},
		{"POST /api/settings/invite", team, s.handleAPIInviteCreate},
		{"GET /api/settings/invite", team, s.handleAPIInviteList},
		{"DELETE /api/settings/invite", team, s.handleAPIInviteRevoke},
		{"GET /api/settings/invite/validate", public, s.handleAPIInviteValidate},
		{"POST /api/settings/invite/validate", public, s.handleAPIInviteAccept},
	}, s.platformRoutes()...)
}

// platformRoutes are the routes of every live platform of the
// registration list (platforms.All), served when the platform is
// configured: its connect step and connect form, and the routes it
// declares (OAuth, webhooks), public or for those who manage connectors.
func (s *Server) platformRoutes() []Route {
	var out []Route
	for _, reg := range platforms.All() {
		if !reg.Live() {
			continue
		}
		out = append(out,
			Route{"GET /connectors/new/" + reg.Type, phantomos.PermConnectors, s.handleConnectorNewPlatform(reg.Type)},
			Route{"POST /connectors/" + reg.Type, phantomos.PermConnectors, s.handleConnect(reg.Type)})
		for _, rt := range reg.Routes {
			perm := phantomos.PermConnectors
			if rt.Public {
				perm = phantomos.PermPublic
			}
			out = append(out, Route{rt.Method + " " + rt.Path, perm, s.handlePlatformRoute(reg.Type, rt)})
		}
	}
	return out
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) error {
	target := "/login"
	if phantomos.ActorFrom(r.Context()) != nil {
		target = "/overview"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (s *Server) handleSettingsIndex(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/settings/profile", http.StatusSeeOther)
	return nil
}

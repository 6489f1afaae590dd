package web

import (
	"io/fs"
	"net/http"
)

// handle mounts one route and records its pattern for Routes.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, h)
}

// Routes lists the registered "METHOD /path" patterns (the role table in
// internal/role classifies each mutating one).
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

// routes mounts every page and action, each behind its middleware.
func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(noDirs{static})))
	s.handle("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/accounts", http.StatusSeeOther)
	})
	s.handle("GET /login", s.loginPage)
	s.handle("POST /login", s.csrf(s.login))
	s.handle("POST /logout", s.auth(s.logout))
	s.handle("POST /workspace", s.auth(s.switchWorkspace))

	s.handle("GET /accounts", s.auth(s.accountsPage))
	s.handle("POST /accounts/connect", s.auth(s.connectAccount))
	s.handle("GET /accounts/hosted-return", s.auth(s.hostedReturn))
	s.handle("GET /accounts/{id}", s.auth(s.accountPage))
	s.handle("POST /accounts/{id}", s.auth(s.saveAccount))
	s.handle("POST /accounts/{id}/reconnect", s.auth(s.reconnectAccount))
	s.handle("POST /accounts/{id}/inmail/top-up", s.auth(s.topUpInMail))
	s.handle("POST /accounts/{id}/tags", s.auth(s.addAccountTag))
	s.handle("POST /accounts/{id}/tags/remove", s.auth(s.removeAccountTag))

	s.handle("GET /campaigns", s.auth(s.campaignsPage))
	s.handle("GET /campaigns/new", s.auth(s.newCampaignPage))
	s.handle("POST /campaigns/new", s.auth(s.createCampaign))
	s.handle("GET /campaigns/{id}", s.auth(s.campaignPage))
	s.handle("GET /campaigns/{id}/edit", s.auth(s.editCampaignPage))
	s.handle("POST /campaigns/{id}/edit", s.auth(s.updateCampaign))
	s.handle("POST /campaigns/{id}/{op}", s.auth(s.campaignAction))
	s.handle("POST /campaigns/{id}/import", s.auth(s.importProspects))
	s.handle("GET /campaigns/{id}/prospects.csv", s.auth(s.exportProspects))
	s.handle("POST /campaigns/{id}/prospects/{eid}/{op}", s.auth(s.actOnProspect))

	s.handle("POST /sends/{id}/settle", s.auth(s.settleSend))
	s.handle("GET /alerts", s.auth(s.alertsPage))
	s.handle("POST /alerts/{id}/ack", s.auth(s.ackAlert))

	s.handle("GET /inbox", s.auth(s.inboxPage))
	s.handle("GET /inbox/{id}", s.auth(s.conversationPage))
	s.handle("POST /inbox/{id}/reply", s.auth(s.replyInConversation))
	s.handle("POST /inbox/{id}/read", s.auth(s.markConversation(true)))
	s.handle("POST /inbox/{id}/unread", s.auth(s.markConversation(false)))
	s.handle("GET /do-not-contact", s.auth(s.dncPage))
	s.handle("POST /do-not-contact", s.auth(s.addDNC))
	s.handle("POST /do-not-contact/{id}/remove", s.auth(s.removeDNC))
	s.handle("POST /do-not-contact/recontact", s.auth(s.saveRecontact))

	s.handle("GET /tokens", s.auth(s.tokensPage))
	s.handle("POST /tokens/{id}/revoke", s.auth(s.revokeToken))

	s.mux.HandleFunc(QueueUIPath, s.queueUI)
}

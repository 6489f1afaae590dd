package web

import (
	"io/fs"
	"net/http"
)

// routes mounts every page and action, each behind its middleware.
func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(noDirs{static})))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/accounts", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.csrf(s.login))
	s.mux.HandleFunc("POST /logout", s.auth(s.logout))
	s.mux.HandleFunc("POST /workspace", s.auth(s.switchWorkspace))

	s.mux.HandleFunc("GET /accounts", s.auth(s.accountsPage))
	s.mux.HandleFunc("POST /accounts/connect", s.auth(s.connectAccount))
	s.mux.HandleFunc("GET /accounts/hosted-return", s.auth(s.hostedReturn))
	s.mux.HandleFunc("GET /accounts/{id}", s.auth(s.accountPage))
	s.mux.HandleFunc("POST /accounts/{id}", s.auth(s.saveAccount))
	s.mux.HandleFunc("POST /accounts/{id}/reconnect", s.auth(s.reconnectAccount))
	s.mux.HandleFunc("POST /accounts/{id}/inmail/top-up", s.auth(s.topUpInMail))
	s.mux.HandleFunc("POST /accounts/{id}/tags", s.auth(s.addAccountTag))
	s.mux.HandleFunc("POST /accounts/{id}/tags/remove", s.auth(s.removeAccountTag))

	s.mux.HandleFunc("GET /campaigns", s.auth(s.campaignsPage))
	s.mux.HandleFunc("GET /campaigns/new", s.auth(s.newCampaignPage))
	s.mux.HandleFunc("POST /campaigns/new", s.auth(s.createCampaign))
	s.mux.HandleFunc("GET /campaigns/{id}", s.auth(s.campaignPage))
	s.mux.HandleFunc("GET /campaigns/{id}/edit", s.auth(s.editCampaignPage))
	s.mux.HandleFunc("POST /campaigns/{id}/edit", s.auth(s.updateCampaign))
	s.mux.HandleFunc("POST /campaigns/{id}/{op}", s.auth(s.campaignAction))
	s.mux.HandleFunc("POST /campaigns/{id}/import", s.auth(s.importProspects))
	s.mux.HandleFunc("GET /campaigns/{id}/prospects.csv", s.auth(s.exportProspects))
	s.mux.HandleFunc("POST /campaigns/{id}/prospects/{eid}/{op}", s.auth(s.actOnProspect))

	s.mux.HandleFunc("POST /sends/{id}/settle", s.auth(s.settleSend))
	s.mux.HandleFunc("GET /alerts", s.auth(s.alertsPage))
	s.mux.HandleFunc("POST /alerts/{id}/ack", s.auth(s.ackAlert))

	s.mux.HandleFunc("GET /inbox", s.auth(s.inboxPage))
	s.mux.HandleFunc("GET /inbox/{id}", s.auth(s.conversationPage))
	s.mux.HandleFunc("POST /inbox/{id}/reply", s.auth(s.replyInConversation))
	s.mux.HandleFunc("POST /inbox/{id}/read", s.auth(s.markConversation(true)))
	s.mux.HandleFunc("POST /inbox/{id}/unread", s.auth(s.markConversation(false)))
	s.mux.HandleFunc("GET /do-not-contact", s.auth(s.dncPage))
	s.mux.HandleFunc("POST /do-not-contact", s.auth(s.addDNC))
	s.mux.HandleFunc("POST /do-not-contact/{id}/remove", s.auth(s.removeDNC))
	s.mux.HandleFunc("POST /do-not-contact/recontact", s.auth(s.saveRecontact))

	s.mux.HandleFunc("GET /tokens", s.auth(s.tokensPage))
	s.mux.HandleFunc("POST /tokens/{id}/revoke", s.auth(s.revokeToken))
}

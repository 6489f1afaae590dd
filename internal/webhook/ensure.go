package webhook

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"github.com/keel-outreach/keel/internal/config"
	"github.com/keel-outreach/keel/internal/unipile"
)

// Sources are the webhook sources Keel registers, one webhook each.
var Sources = []string{unipile.SourceAccountStatus, unipile.SourceUsers, unipile.SourceMessaging}

// namePrefix marks webhooks Keel registered. The name is echoed by Unipile's
// list, which (according to the reference) may not echo the source, so the
// name is how EnsureWebhooks recognises the source of its own webhooks.
const namePrefix = "keel:"

// ReceiverURL returns publicURL + Path after checking publicURL
// (config.Endpoint).
func ReceiverURL(publicURL string) (string, error) { return config.Endpoint(publicURL, Path) }

// EnsureWebhooks makes sure Unipile has exactly one webhook per source in
// Sources pointing at publicURL + Path, each sending Content-Type:
// application/json and the shared secret header. It is idempotent: run at
// every start, it creates only what is missing, replaces webhooks whose
// headers are outdated (a rotated secret), and removes duplicates. Webhooks
// pointing elsewhere are left alone. Replacements are created before the old
// webhook is deleted, so no event source is ever without a webhook.
func EnsureWebhooks(ctx context.Context, client *unipile.Client, publicURL, secret string) error {
	if client == nil {
		return errors.New("ensuring webhooks: no Unipile client")
	}
	if secret == "" {
		return errors.New("ensuring webhooks: the webhook secret is empty (KEEL_WEBHOOK_SECRET)")
	}
	target, err := ReceiverURL(publicURL)
	if err != nil {
		return fmt.Errorf("ensuring webhooks: %w", err)
	}
	existing, err := client.AllWebhooks(ctx)
	if err != nil {
		return fmt.Errorf("ensuring webhooks: listing: %w", err)
	}
	var remove []string
	for _, src := range Sources {
		var keep string
		for _, w := range existing {
			if strings.TrimRight(w.RequestURL, "/") != target || webhookSource(w) != src {
				continue
			}
			if keep == "" && headersCurrent(w.Headers, secret) {
				keep = string(w.ID)
				continue
			}
			remove = append(remove, string(w.ID))
		}
		if keep != "" {
			continue
		}
		req := unipile.CreateWebhookRequest{
			RequestURL: target,
			Source:     src,
			Name:       namePrefix + src,
			Format:     "json",
			Headers: []unipile.WebhookHeader{
				{Key: "Content-Type", Value: "application/json"},
				{Key: HeaderSecret, Value: secret},
			},
		}
		if src == unipile.SourceMessaging {
			// Replies are what the campaign engine needs; read receipts and
			// reactions would only add traffic.
			req.Events = []string{unipile.EventMessageReceived}
		}
		if _, err := client.CreateWebhook(ctx, req); err != nil {
			return fmt.Errorf("ensuring webhooks: creating the %s webhook: %w", src, err)
		}
	}
	for _, id := range remove {
		if err := client.DeleteWebhook(ctx, id); err != nil && unipile.KindOf(err) != unipile.KindNotFound {
			return fmt.Errorf("ensuring webhooks: deleting duplicate or outdated webhook %s: %w", id, err)
		}
	}
	return nil
}

// webhookSource is the listed source, or the one Keel put in the name.
func webhookSource(w unipile.Webhook) string {
	if w.Source != "" {
		return w.Source
	}
	if s, ok := strings.CutPrefix(w.Name, namePrefix); ok {
		return s
	}
	return ""
}

// headersCurrent reports whether a webhook sends JSON and the current secret.
func headersCurrent(headers []unipile.WebhookHeader, secret string) bool {
	var jsonType, secretOK bool
	for _, h := range headers {
		switch {
		case strings.EqualFold(h.Key, "Content-Type"):
			jsonType = strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value)), "application/json")
		case strings.EqualFold(h.Key, HeaderSecret):
			secretOK = subtle.ConstantTimeCompare([]byte(h.Value), []byte(secret)) == 1
		}
	}
	return jsonType && secretOK
}

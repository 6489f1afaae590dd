package campaign

import "context"

type actorKey struct{}

// WithActor marks ctx as a request made by actor ("user:<email>",
// "token:<id>"), whom the campaign writes record as updated_by
// (docs/teams.md#who-changed-what). The API and the UI set it once per
// request, so the service's signatures need not carry it.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// actorOf is who a write in ctx is made by: the request's actor, or "keel"
// when Keel itself acts (a pause because an account disconnected).
func actorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "keel"
}

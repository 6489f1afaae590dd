// Package role decides what a person or an API token may do in a
// workspace (docs/teams.md#roles). Every web form and API route asks
// Allows, through ForRoute, so the rule lives here and nowhere else.
package role

import (
	"fmt"
	"strings"
)

// Role is what a membership or an API token may do in its workspace.
type Role string

// The roles, from most to least trusted.
const (
	Owner  Role = "owner"
	Admin  Role = "admin"
	Member Role = "member"
	Viewer Role = "viewer"
)

// All lists the roles, most trusted first.
var All = []Role{Owner, Admin, Member, Viewer}

// TokenDefault is the role of an API token created without one: admin can
// do everything the API offered before roles existed
// (docs/teams.md#api-tokens).
const TokenDefault = Admin

// Parse reads a role name; anything else is an error naming the choices.
func Parse(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: use owner, admin, member or viewer", s)
}

// Valid reports one of the four roles.
func (r Role) Valid() bool { return r.rank() > 0 }

func (r Role) rank() int {
	switch r {
	case Owner:
		return 4
	case Admin:
		return 3
	case Member:
		return 2
	case Viewer:
		return 1
	}
	return 0
}

// Action is a kind of thing a request does (docs/teams.md#roles).
type Action string

// The actions, each allowed from one role upwards.
const (
	// Read looks and changes nothing: every role.
	Read Action = "read"
	// Operate runs the outreach: campaigns, prospects, replies in the
	// inbox, acknowledging alerts, settling unknown sends. Member and up.
	Operate Action = "operate"
	// Configure changes how the workspace works: LinkedIn accounts and
	// their settings, the do-not-contact list, API tokens, outbound
	// webhooks, workspace settings. Admin and up.
	Configure Action = "configure"
	// ManageUsers adds people and changes their roles. Owner only.
	ManageUsers Action = "manage_users"
)

// minimum is the least trusted role allowed each action.
var minimum = map[Action]Role{
	Read:        Viewer,
	Operate:     Member,
	Configure:   Admin,
	ManageUsers: Owner,
}

// Allows is the rule: whether role r may do action a. An unknown role or
// action is refused.
func Allows(r Role, a Action) bool {
	min, ok := minimum[a]
	return ok && r.Valid() && r.rank() >= min.rank()
}

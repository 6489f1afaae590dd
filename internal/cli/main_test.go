package cli

import (
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/keel-outreach/keel/internal/user"
)

// TestMain hashes passwords at bcrypt's least cost: these tests sign in
// many times, and at the production cost each hash takes seconds under the
// race detector. What the tests check does not depend on the cost.
func TestMain(m *testing.M) {
	user.Cost = bcrypt.MinCost
	os.Exit(m.Run())
}

package user

import (
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestMain hashes at bcrypt's least cost: what these tests check does not
// depend on the cost, and at the production cost each hash takes seconds
// under the race detector.
func TestMain(m *testing.M) {
	Cost = bcrypt.MinCost
	os.Exit(m.Run())
}

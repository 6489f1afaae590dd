package role

import "testing"

func TestAllows(t *testing.T) {
	t.Parallel()
	want := map[Role][]Action{
		Owner:  {Read, Operate, Configure, ManageUsers},
		Admin:  {Read, Operate, Configure},
		Member: {Read, Operate},
		Viewer: {Read},
	}
	for _, r := range All {
		allowed := map[Action]bool{}
		for _, a := range want[r] {
			allowed[a] = true
		}
		for _, a := range []Action{Read, Operate, Configure, ManageUsers, "unknown"} {
			if got := Allows(r, a); got != allowed[a] {
				t.Errorf("Allows(%s, %s) = %v, want %v", r, a, got, allowed[a])
			}
		}
	}
	if Allows("", Read) || Allows("root", Read) {
		t.Error("an unknown role may do nothing")
	}
}

func TestForRoute(t *testing.T) {
	t.Parallel()
	t.Run("reads are reads", func(t *testing.T) {
		if ForRoute("GET /api/v1/campaigns") != Read {
			t.Fail()
		}
	})
	t.Run("an unlisted mutating route needs admin", func(t *testing.T) {
		if ForRoute("POST /api/v1/something-new") != Configure || MayRoute(Member, "DELETE /x") {
			t.Fail()
		}
	})
	t.Run("a viewer may sign out and switch workspace", func(t *testing.T) {
		if !MayRoute(Viewer, "POST /logout") || !MayRoute(Viewer, "POST /workspace") {
			t.Fail()
		}
	})
}

func TestParse(t *testing.T) {
	t.Parallel()
	if r, err := Parse(" Viewer "); err != nil || r != Viewer {
		t.Fatalf("%q %v", r, err)
	}
	if _, err := Parse("root"); err == nil {
		t.Fatal("root accepted")
	}
}

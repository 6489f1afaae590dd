package cli

import "fmt"

// count words n things for any n: "1 account", "2 accounts".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

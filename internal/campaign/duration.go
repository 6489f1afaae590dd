package campaign

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// durationPart is one "<number> <unit>" of a step duration: days, hours
// or minutes, with the unit spelled short or long.
var durationPart = regexp.MustCompile(`^(\d{1,6})\s*(days|day|d|hours|hour|hrs|hr|h|minutes|minute|mins|min|m)\s*,?\s*(and\s+)?`)

// ParseStepDuration reads a wait's duration or a condition's within:
// whole days ("2 days", "2d"), hours and minutes ("48h", "1 day 12 hours",
// "1d12h"), or any Go duration string ("336h", "90m"), which stored
// campaigns used before (docs/campaigns.md#durations).
func ParseStepDuration(v string) (time.Duration, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		m := durationPart.FindStringSubmatch(rest)
		if m == nil {
			return 0, fmt.Errorf("%q is not a duration", v)
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration", v)
		}
		switch m[2][0] {
		case 'd':
			total += time.Duration(n) * 24 * time.Hour
		case 'h':
			total += time.Duration(n) * time.Hour
		default:
			total += time.Duration(n) * time.Minute
		}
		rest = strings.TrimSpace(rest[len(m[0]):])
	}
	return total, nil
}

// SplitDays splits a duration into whole days and the hours left over (the
// builder's two inputs); minutes are rounded up to the next hour.
func SplitDays(d time.Duration) (days, hours int) {
	h := int((d + time.Hour - 1) / time.Hour)
	return h / 24, h % 24
}

// FormatDays writes a duration the way the builder and the docs speak of
// it: "7 days", "1 day 12 hours", "36 hours" only when under a day.
func FormatDays(d time.Duration) string {
	if d%time.Hour != 0 {
		return d.String()
	}
	days, hours := SplitDays(d)
	var parts []string
	switch {
	case days == 1:
		parts = append(parts, "1 day")
	case days > 1:
		parts = append(parts, strconv.Itoa(days)+" days")
	}
	switch {
	case hours == 1:
		parts = append(parts, "1 hour")
	case hours > 1:
		parts = append(parts, strconv.Itoa(hours)+" hours")
	}
	if len(parts) == 0 {
		return "0 hours"
	}
	return strings.Join(parts, " ")
}

// DaysHours is the duration string the builder writes for its days and
// hours inputs ("7d", "1d12h", "6h").
func DaysHours(days, hours int) string {
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	default:
		return fmt.Sprintf("%dh", hours)
	}
}

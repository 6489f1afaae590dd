package campaign

import (
	"context"
	"database/sql"
	"time"
)

// handOff gives the not-yet-contacted live enrollments of sender from in
// a campaign to targets, each to the least loaded one (loads counted
// across every state and updated as it goes), so they spread evenly.
// Enrollments a send of from reached, or may have reached, LinkedIn stay:
// their thread is with from. It returns how many moved.
func (s *Service) handOff(ctx context.Context, tx *sql.Tx, campaignID, from string, targets []string, loads map[string]int, now time.Time) (int, error) {
	if len(targets) == 0 {
		return 0, nil
	}
	ids, err := s.uncontacted(ctx, tx, campaignID, from)
	if err != nil {
		return 0, err
	}
	for _, eid := range ids {
		to := leastLoaded(loads, targets)
		loads[to]++
		if err := moveEnrollment(ctx, tx, eid, to, now); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// HandOffStale hands the not-yet-contacted prospects of every campaign
// sender that has stayed disconnected longer than its workspace's
// sender_handoff_hours to the campaign's connected senders, one
// transaction per campaign and sender. The sender stays on the campaign
// with the prospects it already contacted, which resume when it
// reconnects. Running it again moves nothing more (what is left has been
// contacted), so the periodic sweep can call it every time. It returns
// how many enrollments moved.
func (s *Service) HandOffStale(ctx context.Context) (int, error) {
	stale, err := s.staleSenders(ctx, s.db.SQL)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	moved := 0
	for _, st := range stale {
		if now.Sub(st.DisconnectedAt) < time.Duration(st.HandoffHours)*time.Hour {
			continue
		}
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			c, err := s.read(ctx, tx, "", st.CampaignID, true)
			if err != nil {
				return err
			}
			if c.Status != StatusRunning && c.Status != StatusPaused {
				return nil
			}
			// Decide on what holds now, under the campaign's lock, not on
			// what the scan saw.
			senders, err := s.senders(ctx, tx, c.ID)
			if err != nil {
				return err
			}
			var others []string
			still := false
			for _, sd := range senders {
				switch {
				case sd.AccountID == st.AccountID:
					still = sd.Status != "connected"
				default:
					others = append(others, sd.AccountID)
				}
			}
			if !still {
				return nil
			}
			targets, err := connectedOf(ctx, tx, others)
			if err != nil || len(targets) == 0 {
				return err
			}
			loads, err := s.senderLoads(ctx, tx, c.ID, targets)
			if err != nil {
				return err
			}
			n, err := s.handOff(ctx, tx, c.ID, st.AccountID, targets, loads, now)
			moved += n
			return err
		})
		if err != nil {
			return moved, err
		}
	}
	return moved, nil
}

package forecast

// The simulation: a discrete-event run per sender. A sender acts at the
// next time it may (its pacing) when something of it is due; each due
// prospect is handled as the scheduler's pass handles it
// (docs/surfaces.md#forecast): waits and conditions move on, an
// action asks policy.Decide on the simulated snapshot, a held action defers
// every due prospect of that sender at that step until the verdict clears,
// an allowed one is counted and paces the sender by the verdict's gap.
// Senders are independent (caps, shares and pacing are per sender), so each
// runs alone.

import (
	"strings"
	"time"

	"github.com/keel-outreach/keel/internal/account"
	"github.com/keel-outreach/keel/internal/campaign"
	"github.com/keel-outreach/keel/internal/policy"
	"github.com/keel-outreach/keel/internal/send"
)

const nActions = 5 // len(policy.Actions)

// actIndex is an action's index in policy.Actions.
func actIndex(a policy.Action) int {
	for i, x := range policy.Actions {
		if x == a {
			return i
		}
	}
	return -1
}

// stepInfo is a step compiled for the simulation; targets are step
// indexes, -1 for the end.
type stepInfo struct {
	typ        campaign.StepType
	action     int // index in policy.Actions; -1 for waits and conditions
	withNote   bool
	dur        time.Duration // a wait's duration or a condition's within
	next       int
	then, els  int
	isAccepted bool // if_accepted (else if_replied) for conditions
}

// enr is one simulated prospect.
type enr struct {
	due, entered      int64 // unix nanoseconds
	accepted, replied int64 // when the signal comes; 0: never
	seq               int32 // id order: the scheduler's tie-break
	step              int16 // -1 when finished
	skip              bool  // deferred while listed in a pass
}

// queue is a min-heap of prospects (indexes into sim.enrs) by (due, seq).
type queue struct {
	items []int32
	enrs  []enr
}

func (q *queue) less(i, j int) bool {
	a, b := &q.enrs[q.items[i]], &q.enrs[q.items[j]]
	return a.due < b.due || (a.due == b.due && a.seq < b.seq)
}

func (q *queue) push(x int32) {
	q.items = append(q.items, x)
	i := len(q.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

func (q *queue) pop() int32 {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items = q.items[:last]
	i, n := 0, last
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.less(l, m) {
			m = l
		}
		if r < n && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}

// sender is one account's simulated state.
type sender struct {
	idx         int
	acc         account.Account
	pacing      policy.Pacing
	nextAllowed time.Time
	incident    time.Time
	spread      [nActions]time.Time
	day         time.Time // the UTC day used and shareUsed count
	used, share [nActions]int
	shareCap    [nActions]int
	block       [nActions]*policy.Block
	week, notes []time.Time
	queues      []queue // one per step
	// invites and messages count what the sender sent, for Thinned.
	invites, messages int
	// stuck and frees are the pending invitations: those that stay, and
	// a min-heap of when each other one stops being pending (accepted or
	// withdrawn), in unix nanoseconds.
	stuck int
	frees []int64
}

// pendingAt is the sender's pending count at t, after dropping what
// freed by then, and when the next one frees (0: none will).
func (snd *sender) pendingAt(t int64) (int, int64) {
	for len(snd.frees) > 0 && snd.frees[0] <= t {
		heapPop(&snd.frees)
	}
	next := int64(0)
	if len(snd.frees) > 0 {
		next = snd.frees[0]
	}
	return snd.stuck + len(snd.frees), next
}

func heapPush(h *[]int64, v int64) {
	*h = append(*h, v)
	i := len(*h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if (*h)[p] <= (*h)[i] {
			break
		}
		(*h)[p], (*h)[i] = (*h)[i], (*h)[p]
		i = p
	}
}

func heapPop(h *[]int64) {
	n := len(*h) - 1
	(*h)[0] = (*h)[n]
	*h = (*h)[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && (*h)[l] < (*h)[m] {
			m = l
		}
		if r < n && (*h)[r] < (*h)[m] {
			m = r
		}
		if m == i {
			return
		}
		(*h)[i], (*h)[m] = (*h)[m], (*h)[i]
		i = m
	}
}

type sim struct {
	in          Input
	steps       []stepInfo
	before      [][]int // before[i]: the steps reachable from step i (not i)
	enrs        []enr
	senders     []*sender
	start, end  time.Time
	day0        time.Time
	days        int
	counts      [][][nActions]int    // [day][sender][action]
	binding     [][][nActions]string // [day][sender][action]
	pending     []int                // per step: prospects still before it
	cleared     []int64              // per step: when the last one got past
	live        int
	decisions   int
	liveStart   int
	lastFinish  int64
	mid         policy.Draw
	stepOfIndex map[string]int
}

// Simulate runs the forecast on in. It does no I/O.
func Simulate(in Input) Forecast {
	s := newSim(in)
	for _, snd := range s.senders {
		s.run(snd)
	}
	s.sweepReplies()
	return s.result()
}

func newSim(in Input) *sim {
	if in.Days <= 0 {
		in.Days = DefaultDays
	}
	s := &sim{in: in, start: in.Now.UTC(), day0: policy.UTCDayStart(in.Now), days: in.Days,
		mid: policy.Draw{Gap: 0.5, Spread: 0.5}, stepOfIndex: map[string]int{}}
	s.end = HorizonEnd(in.Now, in.Days)
	s.compile(in.Campaign.Steps)
	s.counts = make([][][nActions]int, in.Days)
	s.binding = make([][][nActions]string, in.Days)
	for d := range s.counts {
		s.counts[d] = make([][nActions]int, len(in.Senders))
		s.binding[d] = make([][nActions]string, len(in.Senders))
	}
	byID := map[string]*sender{}
	for i, sn := range in.Senders {
		snd := &sender{idx: i, acc: sn.Account, pacing: sn.Pacing, nextAllowed: sn.NextAllowed.UTC(), incident: sn.IncidentUntil, day: s.day0,
			queues: make([]queue, len(s.steps))}
		for ai, act := range policy.Actions {
			u := sn.Usage[act]
			snd.used[ai], snd.share[ai], snd.block[ai], snd.spread[ai] = u.UsedToday, u.ShareUsed, u.Block, u.SpreadUntil
			snd.shareCap[ai] = policy.ShareCap(in.Campaign, act)
			if act == policy.ActionInvite {
				snd.week = append([]time.Time(nil), u.Week...)
				snd.notes = append([]time.Time(nil), u.Notes...)
			}
		}
		snd.stuck = sn.Pending.Stuck
		for _, f := range sn.Pending.Frees {
			heapPush(&snd.frees, f.UnixNano())
		}
		s.senders = append(s.senders, snd)
		byID[sn.Account.ID] = snd
	}
	s.enrs = make([]enr, len(in.Enrollments))
	for i := range s.senders {
		for j := range s.senders[i].queues {
			s.senders[i].queues[j].enrs = s.enrs
		}
	}
	s.pending = make([]int, len(s.steps))
	s.cleared = make([]int64, len(s.steps))
	now := s.start.UnixNano()
	for i, le := range in.Enrollments {
		e := &s.enrs[i]
		e.seq = int32(i)
		snd := byID[le.AccountID]
		step, ok := s.stepOfIndex[le.StepID]
		if le.State == campaign.EnrollmentPending || le.StepID == "" {
			step, ok = 0, len(s.steps) > 0
			le.NextActionAt = time.Time{}
		}
		if snd == nil || !ok {
			// A prospect of an unknown sender or at a removed step: the
			// sender ends it (or it never moves); it is not counted live.
			e.step = -1
			continue
		}
		s.live++
		e.step = int16(step)
		e.due = now
		if !le.NextActionAt.IsZero() {
			e.due = le.NextActionAt.UnixNano()
		}
		if !le.AcceptedAt.IsZero() {
			e.accepted = le.AcceptedAt.UnixNano()
		}
		if !le.RepliedAt.IsZero() {
			e.replied = le.RepliedAt.UnixNano()
		}
		st := &s.steps[step]
		e.entered = now
		if st.typ.IsCondition() {
			// It entered the condition when it was last moved: its due
			// time is then + within. A prospect still waiting for its
			// signal answers like the simulated ones.
			e.entered = e.due - int64(st.dur)
			if st.isAccepted && e.accepted == 0 {
				snd.invites++
				if Thinned(snd.invites, in.Rates.Accept) {
					e.accepted = max(now, e.entered+int64(in.Rates.AcceptAfter))
				}
			}
			if !st.isAccepted && e.replied == 0 {
				snd.messages++
				if Thinned(snd.messages, in.Rates.Reply) {
					e.replied = max(now, e.entered+int64(in.Rates.ReplyAfter))
				}
			}
			if sig := s.signal(st, e); sig != 0 && sig < e.due {
				e.due = max(sig, now)
			}
		}
		for _, b := range s.before[step] {
			s.pending[b]++
		}
		snd.queues[step].push(int32(i))
	}
	for _, n := range in.Later {
		// Beyond the horizon: live and before the steps after theirs,
		// never moved.
		step, ok := s.stepOfIndex[n.StepID]
		if byID[n.AccountID] == nil || !ok {
			continue
		}
		s.live += n.N
		for _, b := range s.before[step] {
			s.pending[b] += n.N
		}
	}
	s.liveStart = s.live
	return s
}

// compile turns the steps into stepInfo and works out which steps come
// before which.
func (s *sim) compile(steps []campaign.Step) {
	for i, st := range steps {
		s.stepOfIndex[st.ID] = i
	}
	target := func(id string) int {
		if i, ok := s.stepOfIndex[id]; ok {
			return i
		}
		return -1
	}
	s.steps = make([]stepInfo, len(steps))
	for i, st := range steps {
		si := stepInfo{typ: st.Type, action: -1, next: -1, then: -1, els: -1}
		if a, ok := policy.StepAction(st.Type); ok {
			si.action = actIndex(a)
		}
		si.withNote = st.Type == campaign.StepInvite && strings.TrimSpace(st.Note) != ""
		switch st.Type {
		case campaign.StepWait:
			si.dur = st.WaitDuration()
		case campaign.StepIfAccepted, campaign.StepIfReplied:
			si.dur = st.WithinDuration()
			si.then, si.els = target(st.Then), target(st.Else)
			si.isAccepted = st.Type == campaign.StepIfAccepted
		}
		if i+1 < len(steps) {
			si.next = i + 1
		}
		s.steps[i] = si
	}
	// before[i]: steps reachable from i (the graph has no cycles).
	s.before = make([][]int, len(steps))
	for i := range steps {
		seen := make([]bool, len(steps))
		var walk func(j int)
		walk = func(j int) {
			for _, k := range s.successors(j) {
				if k >= 0 && !seen[k] {
					seen[k] = true
					walk(k)
				}
			}
		}
		walk(i)
		for k, ok := range seen {
			if ok && k != i {
				s.before[i] = append(s.before[i], k)
			}
		}
	}
}

func (s *sim) successors(i int) []int {
	st := s.steps[i]
	if st.typ.IsCondition() {
		return []int{st.then, st.els}
	}
	return []int{st.next}
}

// signal is when a condition step's signal comes for e (0: never).
func (s *sim) signal(st *stepInfo, e *enr) int64 {
	if st.isAccepted {
		return e.accepted
	}
	return e.replied
}

// tick moves t to the scheduler's next pass at or after it.
func (s *sim) tick(t time.Time) time.Time {
	iv := s.in.PassInterval
	if iv <= 0 {
		return t
	}
	if r := t.Sub(t.Truncate(iv)); r > 0 {
		return t.Add(iv - r)
	}
	return t
}

// earliest is the step whose queue holds the sender's earliest due
// prospect, or -1.
func (s *sim) earliest(snd *sender) int {
	best := -1
	for i := range snd.queues {
		q := &snd.queues[i]
		if len(q.items) == 0 {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		a, b := &s.enrs[q.items[0]], &s.enrs[snd.queues[best].items[0]]
		if a.due < b.due || (a.due == b.due && a.seq < b.seq) {
			best = i
		}
	}
	return best
}

// run simulates one sender from the start to the horizon.
func (s *sim) run(snd *sender) {
	cur := s.start
	for {
		step := s.earliest(snd)
		if step < 0 {
			return
		}
		due := time.Unix(0, s.enrs[snd.queues[step].items[0]].due).UTC()
		t := cur
		if due.After(t) {
			t = due
		}
		if snd.nextAllowed.After(t) {
			t = snd.nextAllowed
		}
		t = s.tick(t)
		if !t.Before(s.end) {
			return
		}
		cur = t
		s.pass(snd, t)
		if s.in.PassInterval > 0 {
			// The next pass is a tick later.
			cur = t.Add(time.Nanosecond)
		}
	}
}

// pass handles a sender's due prospects at t until one action is claimed.
// With a pass interval, it looks at the first PerPass due prospects only,
// as the engine's pass does; continuous, at all of them.
func (s *sim) pass(snd *sender, t time.Time) {
	s.rollDay(snd, t)
	tn := t.UnixNano()
	limit := -1
	if s.in.PassInterval > 0 {
		limit = s.in.PerPass
		if limit <= 0 {
			limit = send.PerAccountPerPass
		}
	}
	if limit > 0 {
		// The pass lists its prospects first; those it defers on the way
		// are skipped when their turn comes.
		var list [8]int32
		n := 0
		for n < limit && n < len(list) {
			step := s.earliest(snd)
			if step < 0 || s.enrs[snd.queues[step].items[0]].due > tn {
				break
			}
			list[n] = snd.queues[step].pop()
			s.enrs[list[n]].skip = false
			n++
		}
		for i := 0; i < n; i++ {
			x := list[i]
			if s.enrs[x].skip {
				continue
			}
			if s.handle(snd, x, t, tn, list[i+1:n]) {
				// Claimed: the rest stay due for the next pass.
				for _, y := range list[i+1 : n] {
					if !s.enrs[y].skip {
						snd.queues[s.enrs[y].step].push(y)
					}
				}
				return
			}
		}
		return
	}
	for {
		step := s.earliest(snd)
		if step < 0 || s.enrs[snd.queues[step].items[0]].due > tn {
			return
		}
		if s.handle(snd, snd.queues[step].pop(), t, tn, nil) {
			return
		}
	}
}

// handle processes one due prospect (popped from its queue) and reports
// whether an action was claimed. listed are prospects the pass popped and
// has not handled yet (they are deferred with their group too).
func (s *sim) handle(snd *sender, x int32, t time.Time, tn int64, listed []int32) bool {
	e := &s.enrs[x]
	if s.in.Campaign.StopOnReply && e.replied != 0 && e.replied <= tn {
		s.finish(e, e.replied)
		return false
	}
	st := &s.steps[e.step]
	switch {
	case st.typ == campaign.StepWait:
		s.moveTo(snd, x, st.next, tn)
		return false
	case st.typ.IsCondition():
		if sig := s.signal(st, e); sig != 0 && sig <= tn {
			s.moveTo(snd, x, st.then, max(sig, e.entered))
			return false
		}
		if st.els < 0 {
			s.finish(e, tn)
			return false
		}
		s.moveTo(snd, x, st.els, tn)
		return false
	}
	ai := st.action
	act := policy.Actions[ai]
	snap := policy.Snapshot{Account: snd.acc, Action: act, WithNote: st.withNote, UsedToday: snd.used[ai],
		Share: &policy.Share{Cap: snd.shareCap[ai], Used: snd.share[ai]}, Block: snd.block[ai],
		NextAllowed: snd.nextAllowed, SpreadUntil: snd.spread[ai], IncidentUntil: snd.incident, Pacing: snd.pacing}
	if act == policy.ActionInvite {
		snap.Week = snd.week
		if st.withNote && snd.acc.Tier == account.TierFree {
			snap.Notes = snd.notes
		}
		// The next slot frees at the next accept or withdrawal.
		n, next := snd.pendingAt(tn)
		snap.Pending = n
		if next > 0 {
			snap.PendingFrees = time.Unix(0, next).UTC()
		}
	}
	v := policy.Decide(snap, t, s.mid)
	s.decisions++
	switch {
	case v.Allowed:
		snd.used[ai]++
		snd.share[ai]++
		snd.nextAllowed = t.Add(v.Gap)
		snd.spread[ai] = v.SpreadUntil
		if act == policy.ActionInvite {
			snd.week = append(snd.week, t)
			if st.withNote {
				snd.notes = append(snd.notes, t)
			}
			snd.invites++
			if e.accepted == 0 && Thinned(snd.invites, s.in.Rates.Accept) {
				e.accepted = tn + int64(s.in.Rates.AcceptAfter)
			}
			// Pending until accepted, or withdrawn after withdraw_after_days.
			frees := int64(0)
			if days := snd.acc.WithdrawAfterDays; days > 0 {
				frees = tn + int64(time.Duration(days)*24*time.Hour)
			}
			if e.accepted != 0 && (frees == 0 || e.accepted < frees) {
				frees = max(e.accepted, tn+1)
			}
			if frees == 0 {
				snd.stuck++
			} else {
				heapPush(&snd.frees, frees)
			}
		}
		if act == policy.ActionMessage || act == policy.ActionInMail {
			snd.messages++
			if e.replied == 0 && Thinned(snd.messages, s.in.Rates.Reply) {
				e.replied = tn + int64(s.in.Rates.ReplyAfter)
			}
		}
		s.counts[s.dayIndex(t)][snd.idx][ai]++
		s.moveTo(snd, x, st.next, tn)
		return true
	case v.Code == policy.CodePacing && !v.ThisActionOnly:
		// Cannot happen (a sender acts only once its spacing allows);
		// leave it due for the pacing time.
		snd.queues[e.step].push(x)
		return true
	}
	until := policy.Recheck(v, t)
	if v.Code != policy.CodePacing {
		// The spread paces a day's sends; it is not a limit that binds.
		s.hold(snd, ai, v.Code, t, until)
	}
	s.deferGroup(snd, int(e.step), x, until.UnixNano(), tn, listed)
	return false
}

// deferGroup makes the sender's due prospects at step (x among them) due
// at until, as the claim's DeferGroup does.
func (s *sim) deferGroup(snd *sender, step int, x int32, until, now int64, listed []int32) {
	q := &snd.queues[step]
	moved := []int32{x}
	for len(q.items) > 0 && s.enrs[q.items[0]].due <= now {
		moved = append(moved, q.pop())
	}
	for _, y := range listed {
		if e := &s.enrs[y]; !e.skip && int(e.step) == step && e.due <= now {
			e.skip = true
			moved = append(moved, y)
		}
	}
	for _, y := range moved {
		s.enrs[y].due = until
		q.push(y)
	}
}

// moveTo puts a prospect on a step (or finishes it) at now, as the
// engine's moveTo does: a wait waits, a condition waits for its signal until
// its timeout, an action is due at once.
func (s *sim) moveTo(snd *sender, x int32, target int, now int64) {
	e := &s.enrs[x]
	from := int(e.step)
	for depth := 0; ; depth++ {
		if target < 0 || depth > len(s.steps) {
			s.finishFrom(e, from, now)
			return
		}
		st := &s.steps[target]
		e.entered = now
		switch {
		case st.typ == campaign.StepWait:
			e.due = now + int64(st.dur)
		case st.typ.IsCondition():
			sig := s.signal(st, e)
			if sig != 0 && sig <= now {
				target = st.then
				continue
			}
			e.due = now + int64(st.dur)
			if sig != 0 && sig < e.due {
				e.due = sig
			}
		default:
			e.due = now
			if s.in.PassInterval > 0 {
				// Moved during a pass: the next pass picks it up.
				e.due++
			}
		}
		e.step = int16(target)
		s.reach(from, target, now)
		snd.queues[target].push(x)
		return
	}
}

// reach records that a prospect went from step from to step to (-1: it
// finished) at t: the steps it was before and no longer is are reached.
func (s *sim) reach(from, to int, t int64) {
	if from < 0 {
		return
	}
	for _, b := range s.before[from] {
		if to >= 0 && to != b && contains(s.before[to], b) {
			continue // still before b
		}
		s.pending[b]--
		s.cleared[b] = max(s.cleared[b], t)
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (s *sim) finish(e *enr, t int64) { s.finishFrom(e, int(e.step), t) }

func (s *sim) finishFrom(e *enr, from int, t int64) {
	s.reach(from, -1, t)
	e.step = -1
	s.live--
	s.lastFinish = max(s.lastFinish, t)
}

// sweepReplies stops, at the end, the prospects that replied within the
// horizon while waiting beyond it (stop on reply).
func (s *sim) sweepReplies() {
	if !s.in.Campaign.StopOnReply {
		return
	}
	end := s.end.UnixNano()
	for i := range s.enrs {
		if e := &s.enrs[i]; e.step >= 0 && e.replied != 0 && e.replied < end {
			s.finish(e, e.replied)
		}
	}
}

// rollDay starts a new UTC day's counts and forgets claims older than
// the rolling windows read.
func (s *sim) rollDay(snd *sender, t time.Time) {
	day := policy.UTCDayStart(t)
	if !day.After(snd.day) {
		return
	}
	snd.day = day
	snd.used, snd.share = [nActions]int{}, [nActions]int{}
	snd.week = dropBefore(snd.week, t.Add(-7*24*time.Hour))
	snd.notes = dropBefore(snd.notes, t.Add(-30*24*time.Hour))
}

func dropBefore(ts []time.Time, since time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(since) {
		i++
	}
	return ts[i:]
}

func (s *sim) dayIndex(t time.Time) int {
	return int(t.Sub(s.day0) / (24 * time.Hour))
}

// hold records code as the limit holding the sender's action on the day
// of t (the last such verdict of a day wins) and on the following days the
// hold covers whole, until until.
func (s *sim) hold(snd *sender, ai int, code string, t, until time.Time) {
	first := s.dayIndex(t)
	s.binding[first][snd.idx][ai] = code
	for d := first + 1; d < s.days; d++ {
		if s.day0.Add(time.Duration(d+1) * 24 * time.Hour).After(until) {
			break
		}
		s.binding[d][snd.idx][ai] = code
	}
}

// result lays out the answer.
func (s *sim) result() Forecast {
	in := s.in
	f := Forecast{CampaignID: in.Campaign.ID, Assumptions: assumptions(in, s.liveStart),
		Days: make([]Day, s.days), Steps: make([]StepReach, len(s.steps)), Decisions: s.decisions}
	acts := policy.CampaignActions(in.Campaign)
	accounts := make([]account.Account, len(s.senders))
	for i, snd := range s.senders {
		accounts[i] = snd.acc
	}
	for d := range f.Days {
		day := s.day0.Add(time.Duration(d) * 24 * time.Hour)
		fd := Day{Date: day.Format(dateLayout), Actions: map[string]int{}, Binding: []Binding{}, Senders: []SenderDay{},
			Capacity: Capacity(in.Campaign, accounts, day)}
		for _, a := range acts {
			fd.Actions[string(a)] = 0
		}
		for i, snd := range s.senders {
			sd := SenderDay{AccountID: snd.acc.ID, Actions: map[string]int{}}
			for _, a := range acts {
				ai := actIndex(a)
				n := s.counts[d][i][ai]
				sd.Actions[string(a)] = n
				fd.Actions[string(a)] += n
				if code := s.binding[d][i][ai]; code != "" {
					fd.Binding = append(fd.Binding, Binding{AccountID: snd.acc.ID, Action: string(a), Code: code})
				}
			}
			fd.Senders = append(fd.Senders, sd)
		}
		f.Days[d] = fd
	}
	for i, st := range in.Campaign.Steps {
		r := StepReach{StepID: st.ID}
		switch {
		case s.pending[i] > 0:
		case s.cleared[i] == 0:
			r.AllReachedBy = dateOf(s.start)
		default:
			r.AllReachedBy = dateOf(time.Unix(0, s.cleared[i]))
		}
		f.Steps[i] = r
	}
	if s.live == 0 && s.lastFinish != 0 {
		f.FinishDate = dateOf(time.Unix(0, s.lastFinish))
	}
	return f
}

package replset

import (
	"fmt"
	"regexp"
	"strconv"
)

// Release is a MongoDB release series, "8.0" of 8.0.3: the unit of
// featureCompatibilityVersion.
type Release struct{ Major, Minor int }

func (r Release) String() string { return fmt.Sprintf("%d.%d", r.Major, r.Minor) }

var releasePattern = regexp.MustCompile(`^(\d+)\.(\d+)`)

// ParseRelease reads the series of a version ("8.0.3", "7.0") or an image
// tag ("8.0.3-noble"); ok is false for anything else ("latest", a digest).
func ParseRelease(v string) (Release, bool) {
	m := releasePattern.FindStringSubmatch(v)
	if m == nil {
		return Release{}, false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return Release{major, minor}, true
}

// ImageRelease is the release an image reference's tag names:
// "mongo:8.0" and "registry/mongo:8.0.3-noble" are 8.0; an untagged or
// digest-only reference has none.
func ImageRelease(image string) (Release, bool) {
	for i := len(image) - 1; i >= 0 && image[i] != '/'; i-- {
		if image[i] == '@' {
			return Release{}, false
		}
		if image[i] == ':' {
			return ParseRelease(image[i+1:])
		}
	}
	return Release{}, false
}

func (r Release) less(o Release) bool {
	return r.Major < o.Major || (r.Major == o.Major && r.Minor < o.Minor)
}

// CheckUpgrade refuses binaries a set with featureCompatibilityVersion fcv
// cannot start on. MongoDB upgrades one major release at a time, each after
// the previous one's featureCompatibilityVersion is set ("to upgrade from
// a version earlier than the 7.0-series, you must successively upgrade
// major releases": the manual's "Upgrade a Replica Set to 8.0"), and a
// downgrade needs the featureCompatibilityVersion lowered first. An empty
// fcv (a set never observed) allows anything.
func CheckUpgrade(fcv string, target Release) error {
	cur, ok := ParseRelease(fcv)
	switch {
	case !ok || cur == target:
		return nil
	case target.less(cur):
		return fmt.Errorf("mongodb %s is older than the replica set's featureCompatibilityVersion %s: lower it with setFeatureCompatibilityVersion before downgrading", target, cur)
	case target.Major > cur.Major+1:
		return fmt.Errorf("mongodb %s skips a major release: the replica set's featureCompatibilityVersion is %s; upgrade to %d.x first", target, cur, cur.Major+1)
	}
	return nil
}

// PlanFCV raises the featureCompatibilityVersion to the binaries' release
// once every member runs it, the last step of an upgrade; Noop while any
// member still runs another release or reports none.
func PlanFCV(st State) Action {
	primary := st.Primary()
	var running Release
	for i, m := range st.Status {
		r, ok := ParseRelease(m.Version)
		if !ok || (i > 0 && r != running) {
			return Action{Kind: Noop, Reason: "members run different or unknown releases"}
		}
		running = r
	}
	fcv, ok := ParseRelease(st.FCV)
	if primary == "" || !ok || !fcv.less(running) {
		return Action{Kind: Noop, Reason: "featureCompatibilityVersion is current"}
	}
	return Action{
		Kind: SetFCV, Target: primary, FCV: running.String(),
		Reason: fmt.Sprintf("every member runs %s: raising featureCompatibilityVersion from %s", running, fcv),
	}
}

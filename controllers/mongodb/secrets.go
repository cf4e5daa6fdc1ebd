package mongodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
	"github.com/ugcstack/ugcstack/controllers/mongodb/members"
	"github.com/ugcstack/ugcstack/controllers/mongodb/replset"
)

// userAnnotation on the application Secret records a digest of the user the
// set holds (name, password, roles), so the user is written once per
// change rather than on every reconcile.
const userAnnotation = "ugc.ugcstack.io/mongodb-user"

// retireAnnotation on the application Secret names the user it turned
// away from, whose password is replaced once no pod may still use it.
const retireAnnotation = "ugc.ugcstack.io/mongodb-retire"

// creds are the managed MongoDB's generated Secrets as they are now.
type creds struct {
	key, admin, app *corev1.Secret
}

func (c creds) objects() []client.Object { return []client.Object{c.key, c.admin, c.app} }

// ensureSecrets makes the keyfile and both users' credentials once, and
// keeps their URIs in step with the member list. They are Retained: the
// volumes hold a root user with the admin password, and a stack re-created
// on them must log in with it.
func ensureSecrets(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) (creds, error) {
	key, err := common.EnsureSecret(ctx, d, s, members.KeyfileSecret(s), common.Retained, func(context.Context) (map[string]string, error) {
		return map[string]string{members.KeyfileKey: members.NewKey()}, nil
	})
	if err != nil {
		return creds{}, err
	}
	admin, err := ensureAdmin(ctx, d, s)
	if err != nil {
		return creds{}, err
	}
	// The application Secret's user and URI follow the set's users, so
	// ensureAppUser keeps them; here it is only made.
	app, err := common.EnsureSecret(ctx, d, s, members.AppSecret(s, ""), common.Retained, func(context.Context) (map[string]string, error) {
		return members.AppSecret(s, common.RandomPassword(24)).StringData, nil
	})
	if err != nil {
		return creds{}, err
	}
	return creds{key: key, admin: admin, app: app}, nil
}

// errCredentialsLost is a root password to generate for volumes that
// already hold a database: the official image creates the root user only
// on an empty data directory (docker-library/mongo docker-entrypoint.sh
// skips it once $dbPath holds WiredTiger), so a new password could never
// log in.
var errCredentialsLost = errors.New("credentials lost")

// refuseOverData refuses to generate the admin password while MongoDB
// claims exist.
func refuseOverData(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) error {
	claims, err := common.Claims(ctx, d, s, common.ComponentMongoDB)
	if err != nil || len(claims) == 0 {
		return err
	}
	return fmt.Errorf("%w: Secret %s is missing, but claim %s holds a database whose root user has the password it held; "+
		"re-create the Secret with the same username and password (from a backup), or delete the stack's MongoDB claims to start with an empty database",
		errCredentialsLost, members.AdminSecretName(s), claims[0].Name)
}

// ensureAdmin makes the root user's Secret with a generated password once,
// unless refuseOverData refuses, and re-applies it with the same password
// when the member list, and so the URI, changed.
func ensureAdmin(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) (*corev1.Secret, error) {
	sec, err := common.EnsureSecret(ctx, d, s, members.AdminSecret(s, ""), common.Retained, func(ctx context.Context) (map[string]string, error) {
		if err := refuseOverData(ctx, d, s); err != nil {
			return nil, err
		}
		return members.AdminSecret(s, common.RandomPassword(24)).StringData, nil
	})
	if err != nil {
		return nil, err
	}
	user, password := string(sec.Data["username"]), string(sec.Data["password"])
	if string(sec.Data["uri"]) == members.URI(s, user, password) {
		return sec, nil
	}
	if err := common.ApplyRetained(ctx, d, members.AdminSecret(s, password)); err != nil {
		return nil, err
	}
	return sec, nil
}

// ensureAppUser keeps the application user on the primary, and the
// Secret's user and URI, in step with the Secret's password and the
// members. A password is rotated by editing the Secret's password. mongod
// holds one password per user and authenticates a connection when it
// opens, so setting it on the user the pods log in as would refuse every
// new connection of a pod not yet replaced. Two users take turns instead:
// the new password goes to the one not in use, the Secret turns to it (its
// pods roll, see common.RollOnSecrets), and the previous user's password is
// replaced by one nobody knows once no pod made before the turn is left.
// Until then a further rotation waits, and ensureAppUser reports retiring.
func ensureAppUser(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, rs replset.Client, primary string, app *corev1.Secret) (retiring bool, err error) {
	if done, err := retire(ctx, d, s, rs, primary, app); !done {
		return err == nil, err
	}
	u := replset.User{Name: string(app.Data["username"]), Password: string(app.Data["password"]), Roles: members.AppRoles(s)}
	recorded := app.Annotations[userAnnotation]
	turned := recorded != "" && recorded != userDigest(u)
	if turned {
		u.Name = members.NextAppUser(u.Name)
	}
	uri := members.URI(s, u.Name, u.Password)
	if !turned && recorded != "" && string(app.Data["uri"]) == uri {
		return false, nil
	}
	if recorded != userDigest(u) {
		if err := rs.EnsureUser(ctx, primary, u); err != nil {
			return false, err
		}
	}
	patch := client.MergeFrom(app.DeepCopy())
	app.Data["username"], app.Data["uri"] = []byte(u.Name), []byte(uri)
	if app.Annotations == nil {
		app.Annotations = map[string]string{}
	}
	app.Annotations[userAnnotation] = userDigest(u)
	if turned {
		app.Annotations[retireAnnotation] = members.NextAppUser(u.Name)
	}
	if err := d.Client.Patch(ctx, app, patch); err != nil {
		return false, fmt.Errorf("record user %s on Secret %s: %w", u.Name, app.Name, err)
	}
	if turned {
		d.Event(s, corev1.EventTypeNormal, "MongoDBUserRotated", "the application now logs in as %s; %s keeps its password until no pod made before uses it", u.Name, members.NextAppUser(u.Name))
	} else if recorded != userDigest(u) {
		d.Event(s, corev1.EventTypeNormal, "MongoDBUserReady", "user %s has %v", u.Name, u.Roles)
	}
	return turned, nil
}

// retire replaces the password of the user the application Secret turned
// away from, once no pod that reads the Secret was made before the turn.
// It reports done when nothing is left to retire.
func retire(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, rs replset.Client, primary string, app *corev1.Secret) (bool, error) {
	old := app.Annotations[retireAnnotation]
	if old == "" {
		return true, nil
	}
	behind, err := common.PodsBehind(ctx, d, s.Namespace, map[string]string{"app.kubernetes.io/instance": s.Name}, app.Name)
	if err != nil || len(behind) > 0 {
		return false, err
	}
	u := replset.User{Name: old, Password: common.RandomPassword(24), Roles: members.AppRoles(s)}
	if err := rs.EnsureUser(ctx, primary, u); err != nil {
		return false, err
	}
	patch := client.MergeFrom(app.DeepCopy())
	delete(app.Annotations, retireAnnotation)
	if err := d.Client.Patch(ctx, app, patch); err != nil {
		return false, fmt.Errorf("record user %s retired on Secret %s: %w", old, app.Name, err)
	}
	d.Event(s, corev1.EventTypeNormal, "MongoDBUserRetired", "user %s no longer has a password anyone knows", old)
	return true, nil
}

func userDigest(u replset.User) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v", u.Name, u.Password, u.Roles)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

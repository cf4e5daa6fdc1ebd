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
	admin, err := ensureCredentials(ctx, d, s, members.AdminSecret, refuseOverData)
	if err != nil {
		return creds{}, err
	}
	app, err := ensureCredentials(ctx, d, s, members.AppSecret, nil)
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

// ensureCredentials makes a user's Secret with a generated password once,
// unless guard refuses, and re-applies it with the same password when the
// member list, and so the URI, changed.
func ensureCredentials(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, build func(*ugcv1.UGCStack, string) *corev1.Secret,
	guard func(context.Context, common.Deps, *ugcv1.UGCStack) error,
) (*corev1.Secret, error) {
	sec, err := common.EnsureSecret(ctx, d, s, build(s, ""), common.Retained, func(ctx context.Context) (map[string]string, error) {
		if guard != nil {
			if err := guard(ctx, d, s); err != nil {
				return nil, err
			}
		}
		return build(s, common.RandomPassword(24)).StringData, nil
	})
	if err != nil {
		return nil, err
	}
	user, password := string(sec.Data["username"]), string(sec.Data["password"])
	if string(sec.Data["uri"]) == members.URI(s, user, password) {
		return sec, nil
	}
	if err := common.ApplyRetained(ctx, d, build(s, password)); err != nil {
		return nil, err
	}
	return sec, nil
}

// ensureAppUser creates or updates the application user on the primary
// when the Secret's password or the roles changed since it was last
// written.
func ensureAppUser(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, rs replset.Client, primary string, app *corev1.Secret) error {
	u := replset.User{Name: string(app.Data["username"]), Password: string(app.Data["password"]), Roles: members.AppRoles(s)}
	digest := userDigest(u)
	if app.Annotations[userAnnotation] == digest {
		return nil
	}
	if err := rs.EnsureUser(ctx, primary, u); err != nil {
		return err
	}
	patch := client.MergeFrom(app.DeepCopy())
	if app.Annotations == nil {
		app.Annotations = map[string]string{}
	}
	app.Annotations[userAnnotation] = digest
	if err := d.Client.Patch(ctx, app, patch); err != nil {
		return fmt.Errorf("record user %s on Secret %s: %w", u.Name, app.Name, err)
	}
	d.Event(s, corev1.EventTypeNormal, "MongoDBUserReady", "user %s has %v", u.Name, u.Roles)
	return nil
}

func userDigest(u replset.User) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v", u.Name, u.Password, u.Roles)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

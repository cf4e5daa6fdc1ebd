package mongodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// keeps their URIs in step with the member list.
func ensureSecrets(ctx context.Context, d common.Deps, s *ugcv1.UGCStack) (creds, error) {
	key, err := common.EnsureSecret(ctx, d, s, members.KeyfileSecret(s), func() map[string]string {
		return map[string]string{members.KeyfileKey: members.NewKey()}
	})
	if err != nil {
		return creds{}, err
	}
	admin, err := ensureCredentials(ctx, d, s, members.AdminSecret)
	if err != nil {
		return creds{}, err
	}
	app, err := ensureCredentials(ctx, d, s, members.AppSecret)
	if err != nil {
		return creds{}, err
	}
	return creds{key: key, admin: admin, app: app}, nil
}

// ensureCredentials makes a user's Secret with a generated password once,
// and re-applies it with the same password when the member list, and so
// the URI, changed.
func ensureCredentials(ctx context.Context, d common.Deps, s *ugcv1.UGCStack, build func(*ugcv1.UGCStack, string) *corev1.Secret) (*corev1.Secret, error) {
	sec, err := common.EnsureSecret(ctx, d, s, build(s, ""), func() map[string]string {
		return build(s, common.RandomPassword(24)).StringData
	})
	if err != nil {
		return nil, err
	}
	user, password := string(sec.Data["username"]), string(sec.Data["password"])
	if string(sec.Data["uri"]) == members.URI(s, user, password) {
		return sec, nil
	}
	want := build(s, password)
	if err := common.Apply(ctx, d, s, want); err != nil {
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

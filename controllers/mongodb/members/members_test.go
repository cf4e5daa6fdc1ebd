package members

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ugcstack/ugcstack/controllers/common/commontest"
)

func TestGolden(t *testing.T) {
	for name, s := range commontest.Samples() {
		t.Run(name, func(t *testing.T) {
			commontest.Golden(t, name, []client.Object{Service(s), StatefulSet(s, Desired(s)), PDB(s), KeyfileSecret(s), AdminSecret(s, "PASSWORD"), AppSecret(s, "PASSWORD")})
		})
	}
}

func TestURIListsEveryMember(t *testing.T) {
	s := commontest.Production()
	want := "mongodb://admin:pw@prod-mongodb-0.prod-mongodb.ugc.svc:27017,prod-mongodb-1.prod-mongodb.ugc.svc:27017,prod-mongodb-2.prod-mongodb.ugc.svc:27017/ugc?replicaSet=prod&authSource=admin"
	if got := URI(s, "admin", "pw"); got != want {
		t.Errorf("URI = %s\nwant %s", got, want)
	}
}

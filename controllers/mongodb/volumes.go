package mongodb

import (
	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
	"github.com/ugcstack/ugcstack/controllers/common"
)

// Volumes says whether the managed MongoDB's claims, keyfile and
// credentials go with the stack. An external MongoDB has none left: the
// switch to it deleted them, or kept them, by the same policy.
func Volumes(s *ugcv1.UGCStack) common.Volumes {
	return common.Volumes{
		Component: common.ComponentMongoDB,
		Delete:    s.Spec.MongoDB.External == nil && s.Spec.MongoDB.DeletePolicy == ugcv1.DeletePolicyDelete,
	}
}

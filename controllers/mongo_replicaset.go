package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	ugcv1 "github.com/ugcstack/ugcstack/api/v1alpha1"
)

// mongoRS sends replica-set commands through the MongoDB driver, connected
// directly to the first member (commands that need the primary are retried
// by the next reconcile when that member is not primary).
type mongoRS struct{ c *mongo.Client }

// NewMongoReplicaSetClient is the production ReplicaSetClientFactory.
func NewMongoReplicaSetClient(ctx context.Context, _ *ugcv1.UGCStack, hosts []string, user, password string) (ReplicaSetClient, func(), error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("no members")
	}
	uri := fmt.Sprintf("mongodb://%s:%s@%s/admin?directConnection=true&authSource=admin",
		url.QueryEscape(user), url.QueryEscape(password), hosts[0])
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, nil, err
	}
	return &mongoRS{c: c}, func() { _ = c.Disconnect(context.Background()) }, nil
}

func (m *mongoRS) GetState(ctx context.Context) (RSState, error) {
	var status struct {
		Members []struct {
			Name     string  `bson:"name"`
			StateStr string  `bson:"stateStr"`
			Health   float64 `bson:"health"`
		} `bson:"members"`
	}
	err := m.c.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}}).Decode(&status)
	if err != nil {
		if strings.Contains(err.Error(), "NotYetInitialized") || strings.Contains(err.Error(), "no replset config") {
			return RSState{}, nil
		}
		return RSState{}, err
	}
	st := RSState{Initialized: true}
	for _, mm := range status.Members {
		st.Status = append(st.Status, RSMemberStatus{Host: mm.Name, State: mm.StateStr, Healthy: mm.Health == 1})
	}
	var cfg struct {
		Config RSConfig `bson:"config"`
	}
	if err := m.c.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetGetConfig", Value: 1}}).Decode(&cfg); err != nil {
		return RSState{}, err
	}
	st.Config = cfg.Config
	return st, nil
}

func (m *mongoRS) Initiate(ctx context.Context, cfg RSConfig) error {
	return m.c.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetInitiate", Value: cfg}}).Err()
}

func (m *mongoRS) Reconfig(ctx context.Context, cfg RSConfig) error {
	return m.c.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetReconfig", Value: cfg}}).Err()
}

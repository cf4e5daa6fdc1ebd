module github.com/ugcstack/ugcstack

go 1.26.0

require github.com/google/uuid v1.6.0

require go.mongodb.org/mongo-driver/v2 v2.10.0 // indirect

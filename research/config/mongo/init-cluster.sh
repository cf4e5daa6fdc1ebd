#!/usr/bin/env bash
# Initiates the replica sets, registers the shards with mongos and shards
# the research collections. Idempotent enough to rerun: rs.initiate on an
# initiated set fails harmlessly.
set -u
wait_for() { until mongosh --quiet --host "$1" --eval 'db.adminCommand({ping: 1})' >/dev/null 2>&1; do sleep 1; done; }
for h in mongo-cfg mongo-shard1a mongo-shard2a; do wait_for "$h"; done
mongosh --quiet --host mongo-cfg --eval 'rs.initiate({_id: "cfg", configsvr: true, members: [{_id: 0, host: "mongo-cfg:27017"}]})'
mongosh --quiet --host mongo-shard1a --eval 'rs.initiate({_id: "shard1", members: [{_id: 0, host: "mongo-shard1a:27017"}, {_id: 1, host: "mongo-shard1b:27017"}, {_id: 2, host: "mongo-shard1c:27017"}]})'
mongosh --quiet --host mongo-shard2a --eval 'rs.initiate({_id: "shard2", members: [{_id: 0, host: "mongo-shard2a:27017"}, {_id: 1, host: "mongo-shard2b:27017"}, {_id: 2, host: "mongo-shard2c:27017"}]})'
sleep 10
wait_for mongos
mongosh --quiet --host mongos --eval 'sh.addShard("shard1/mongo-shard1a:27017,mongo-shard1b:27017,mongo-shard1c:27017"); sh.addShard("shard2/mongo-shard2a:27017,mongo-shard2b:27017,mongo-shard2c:27017")'
mongosh --quiet --host mongos /shard-collections.js

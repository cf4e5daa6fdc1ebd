// Shard keys for the research collections (see research/mongo/mongo.go).
// A user's ratings and bookmarks live on one shard; a film's reviews on one shard.
const db = "ugc_research";
sh.enableSharding(db);
sh.shardCollection(db + ".ratings", { user_id: "hashed" });
sh.shardCollection(db + ".bookmarks", { user_id: "hashed" });
sh.shardCollection(db + ".reviews", { film_id: "hashed" });
sh.shardCollection(db + ".film_summary", { _id: "hashed" });
sh.shardCollection(db + ".review_votes", { _id: "hashed" });

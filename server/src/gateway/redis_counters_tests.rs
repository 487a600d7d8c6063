//! The Redis counter store against a real Redis: the one of `PORTICO_TEST_REDIS_URL`
//! when set, else a `redis-server` child process on a Unix socket (tests that stop
//! Redis always use their own); skipped, saying so, when neither is there.

use std::time::{Duration, Instant};

use super::*;

#[path = "../../tests/common/redis.rs"]
mod redis_helper;
use redis_helper::{shared_redis, RedisServer};

/// A Redis for a test: the config to reach it, and the child process if it is ours.
fn any_redis(test: &str) -> Option<(Redis, Option<RedisServer>)> {
    if std::env::var_os("PORTICO_TEST_REDIS_URL").is_some() {
        let (host, port) = shared_redis(test)?;
        return Some((
            Redis {
                host: Some(host),
                port,
                ..Redis::default()
            },
            None,
        ));
    }
    let server = RedisServer::start(test)?;
    Some((
        Redis {
            host: Some(server.host()),
            ..Redis::default()
        },
        Some(server),
    ))
}

fn key_of(cfg: &Redis) -> StoreKey {
    StoreKey {
        host: cfg.host.clone().unwrap_or_default(),
        port: cfg.port,
        timeout_ms: cfg.timeout,
        username: cfg.username.clone(),
        password: cfg.password.clone(),
        database: cfg.database,
    }
}

/// Keys of their own for each test (the shared Redis outlives test runs).
fn prefix() -> String {
    format!("ratelimit:test-{}", uuid::Uuid::new_v4().simple())
}

fn w(key: &str, limit: u64, ttl: Duration) -> Window {
    Window {
        key: key.into(),
        limit,
        ttl,
    }
}

async fn raw(cfg: &Redis) -> redis::aio::MultiplexedConnection {
    let store = RedisCounters::new(&key_of(cfg)).expect("store");
    store
        .client
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection")
}

#[tokio::test]
async fn counts_every_window_until_one_is_full_and_windows_expire() {
    let Some((cfg, _server)) = any_redis("the counting test") else {
        return;
    };
    let store = redis_counters(&cfg).expect("store");
    let p = prefix();
    let minute = format!("{p}:minute");
    let second = format!("{p}:second");
    let ws = [
        w(&minute, 10, Duration::from_secs(60)),
        w(&second, 2, Duration::from_millis(400)),
    ];
    for i in 1..=2 {
        let u = store.hit(&ws).await.expect("hit");
        assert!(u.allowed);
        assert_eq!(u.counts, vec![i, i]);
    }
    let u = store.hit(&ws).await.expect("hit");
    assert!(!u.allowed, "the second window is full");
    assert_eq!(u.counts, vec![2, 2], "a denied request is counted nowhere");

    // both keys expire with their windows
    let mut conn = raw(&cfg).await;
    let pttl_minute: i64 = redis::cmd("PTTL")
        .arg(&minute)
        .query_async(&mut conn)
        .await
        .expect("PTTL");
    assert!(
        (1..=60_000).contains(&pttl_minute),
        "the minute window's key expires within a minute, got PTTL {pttl_minute}"
    );

    tokio::time::sleep(Duration::from_millis(600)).await;
    let u = store.hit(&ws).await.expect("hit");
    assert!(u.allowed, "the second window started again");
    assert_eq!(u.counts, vec![3, 1]);
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&second)
        .query_async(&mut conn)
        .await
        .expect("EXISTS");
    assert_eq!(exists, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_requests_never_pass_more_than_the_limit() {
    let Some((cfg, _server)) = any_redis("the concurrency test") else {
        return;
    };
    let store = redis_counters(&cfg).expect("store");
    let key = format!("{}:minute", prefix());
    let limit = 25;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let store = store.clone();
            let key = key.clone();
            tokio::spawn(async move {
                store
                    .hit(&[w(&key, limit, Duration::from_secs(60))])
                    .await
                    .expect("hit")
            })
        })
        .collect();
    let mut allowed_counts = Vec::new();
    for t in tasks {
        let u = t.await.expect("task");
        if u.allowed {
            allowed_counts.push(u.counts[0]);
        } else {
            assert_eq!(u.counts, vec![limit]);
        }
    }
    allowed_counts.sort_unstable();
    assert_eq!(
        allowed_counts,
        (1..=limit).collect::<Vec<_>>(),
        "exactly `limit` requests pass, each with its own count"
    );
}

#[tokio::test]
async fn two_nodes_share_one_limit_and_one_process_shares_one_connection() {
    let Some((cfg, _server)) = any_redis("the two-node test") else {
        return;
    };
    // what two nodes have: a store (and a connection) each
    let a = RedisCounters::new(&key_of(&cfg)).expect("store a");
    let b = RedisCounters::new(&key_of(&cfg)).expect("store b");
    let key = format!("{}:minute", prefix());
    let ws = [w(&key, 7, Duration::from_secs(60))];
    let mut passed = 0;
    for i in 0..20 {
        let node = if i % 2 == 0 { &a } else { &b };
        if node.hit(&ws).await.expect("hit").allowed {
            passed += 1;
        }
    }
    assert_eq!(passed, 7, "the limit holds across both nodes");

    // within one process, one config is one store (snapshots compiled again reuse it)
    let first = redis_counters(&cfg).expect("store");
    let again = redis_counters(&cfg.clone()).expect("store");
    assert!(Arc::ptr_eq(&first, &again));
    let other_db = redis_counters(&Redis {
        database: 1,
        ..cfg.clone()
    })
    .expect("store");
    assert!(!Arc::ptr_eq(&first, &other_db));
}

#[tokio::test]
async fn database_and_password_are_used() {
    let Some(server) =
        RedisServer::start_with("the credentials test", &["--requirepass", "s3cret"])
    else {
        return;
    };
    let key = format!("{}:minute", prefix());
    let ws = [w(&key, 5, Duration::from_secs(60))];
    let base = Redis {
        host: Some(server.host()),
        database: 3,
        timeout: 1000,
        ..Redis::default()
    };

    let wrong = RedisCounters::new(&key_of(&Redis {
        password: Some("wrong".into()),
        ..base.clone()
    }))
    .expect("store");
    let started = Instant::now();
    let err = wrong.hit(&ws).await.expect_err("a wrong password fails");
    assert!(started.elapsed() < Duration::from_secs(3), "{err}");

    let right = Redis {
        password: Some("s3cret".into()),
        ..base.clone()
    };
    let store = RedisCounters::new(&key_of(&right)).expect("store");
    assert!(store.hit(&ws).await.expect("hit").allowed);
    let mut conn = raw(&right).await; // database 3 too
    let n: i64 = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("GET");
    assert_eq!(n, 1, "the counter is in database 3");
    let mut db0 = raw(&Redis {
        database: 0,
        ..right.clone()
    })
    .await;
    let in_db0: i64 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut db0)
        .await
        .expect("EXISTS");
    assert_eq!(in_db0, 0, "not in database 0");
}

#[tokio::test]
async fn a_stopped_redis_fails_within_the_timeout_and_is_used_again_once_back() {
    let Some(mut server) = RedisServer::start("the Redis-stopped test") else {
        return;
    };
    let cfg = Redis {
        host: Some(server.host()),
        timeout: 500,
        ..Redis::default()
    };
    let store = RedisCounters::new(&key_of(&cfg)).expect("store");
    let key = format!("{}:minute", prefix());
    let ws = [w(&key, 100, Duration::from_secs(60))];
    assert_eq!(store.hit(&ws).await.expect("hit").counts, vec![1]);

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let err = store.hit(&ws).await.expect_err("Redis is down");
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "the error came after {:?}: {err}",
            started.elapsed()
        );
        assert!(err.to_string().contains("Redis unix:"), "{err}");
    }

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    let usage = loop {
        match store.hit(&ws).await {
            Ok(u) => break u,
            Err(e) if Instant::now() > deadline => panic!("no recovery within 10 s: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    assert!(usage.allowed);
    assert_eq!(usage.counts, vec![1], "the new Redis counts from zero");
}

#[tokio::test]
async fn a_redis_that_never_answers_fails_within_the_timeout() {
    // accepts connections and never answers
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let store = RedisCounters::new(&key_of(&Redis {
        host: Some("127.0.0.1".into()),
        port,
        timeout: 300,
        ..Redis::default()
    }))
    .expect("store");
    let ws = [w("ratelimit:hang", 1, Duration::from_secs(60))];
    for _ in 0..2 {
        let started = Instant::now();
        let err = store.hit(&ws).await.expect_err("no answer");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(250) && took < Duration::from_millis(1500),
            "failed after {took:?}: {err}"
        );
    }
    hold.abort();
}

#[test]
fn configs_redis_cannot_serve_are_refused_naming_the_field() {
    let err = redis_counters(&Redis::default())
        .err()
        .expect("no host is refused");
    assert!(err.starts_with("config.redis.host:"), "{err}");
    let err = redis_counters(&Redis {
        host: Some("127.0.0.1".into()),
        ssl: true,
        ..Redis::default()
    })
    .err()
    .expect("ssl is refused");
    assert!(err.starts_with("config.redis.ssl:"), "{err}");
}

//! Per-site MCS category pairs, allocated by the real insert on the real database: thousands of
//! creates and deletes in random order never give two live sites the same pair, and a deleted
//! site's pair is the next one handed out.

use std::collections::{BTreeMap, HashSet};

use panel::db::sites::{NewSite, delete, get, insert};
use panel::domain::McsPair;
use panel::domain::{AppType, PhpVersion};
use panel::ids::{ServerId, SiteId, SystemUserId};

use crate::harness::TestApp;

/// A small deterministic generator (xorshift64*): the seed is printed, so a failure replays.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_stay_unique_over_thousands_of_creates_and_deletes() {
    let app = TestApp::spawn().await;
    let db = app.db();
    let server = ServerId::generate();
    sqlx::query("INSERT INTO servers (id, name, ip_address, hostname, os_version) VALUES (?, 'mcs', '192.0.2.80', 'mcs.example.com', 'alma_9')")
        .bind(server)
        .execute(db)
        .await
        .unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("mcs property seed: {seed}");
    let mut rng = Rng(seed);
    // The model: live site -> its pair index.
    let mut live: BTreeMap<SiteId, i64> = BTreeMap::new();
    let mut created = 0u32;
    let mut reused = 0u32;
    for step in 0..2500u32 {
        if live.is_empty() || rng.below(3) != 0 {
            created += 1;
            let id = SiteId::generate();
            let username = format!("web{created}");
            let home = format!("/home/{username}");
            let domain = format!("s{created}.example.com");
            insert(
                db,
                &NewSite {
                    id,
                    server_id: server,
                    user_id: SystemUserId::generate(),
                    username: &username,
                    home: &home,
                    domain: &domain,
                    aliases: "[]",
                    app_type: AppType::Generic,
                    php_version: PhpVersion::V83,
                    document_root: &home,
                    database: None,
                },
            )
            .await
            .unwrap();
            let site = get(db, id).await.unwrap().unwrap();
            let mcs = site.mcs_id.expect("every new site has a pair");
            // The lowest index no live site holds.
            let expected = (0..).find(|i| !live.values().any(|v| v == i)).unwrap();
            assert_eq!(mcs, expected, "step {step} (seed {seed})");
            if mcs < i64::try_from(live.len()).unwrap() {
                reused += 1;
            }
            live.insert(id, mcs);
        } else {
            let victim = *live.keys().nth(rng.below(live.len())).unwrap();
            let site = get(db, victim).await.unwrap().unwrap();
            delete(db, &site, false).await.unwrap();
            live.remove(&victim);
        }
        if step % 250 == 0 || step == 2499 {
            let rows: Vec<(SiteId, i64)> =
                sqlx::query_as("SELECT id, mcs_id FROM sites WHERE server_id = ?")
                    .bind(server)
                    .fetch_all(db)
                    .await
                    .unwrap();
            assert_eq!(rows.len(), live.len());
            let mut pairs = HashSet::new();
            for (id, mcs) in rows {
                assert_eq!(live.get(&id), Some(&mcs), "seed {seed}");
                let pair = McsPair::from_id(mcs).expect("a valid pair");
                assert!(pairs.insert(pair), "{pair} given twice (seed {seed})");
            }
        }
    }
    assert!(
        created > 1500 && reused > 100,
        "created {created}, reused {reused}"
    );
    app.stop().await;
}

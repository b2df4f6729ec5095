//! `warden tokens`: an IAM admin lists and revokes another user's tokens, by id or name; a
//! user without the right is told so plainly.

use crate::common::{add_user, create_org, Server};

#[test]
fn admins_list_and_revoke_other_users_tokens() {
    let server = Server::start();
    let created = create_org(&server, "ada@example.com");
    let ada = created["token"].as_str().unwrap().to_string();
    let ada_token = created["token_id"].as_str().unwrap().to_string();
    let org = created["organization_id"].as_str().unwrap();
    // Bob manages his own tokens (legacy group `write`: Access Token Admin), no one else's.
    let bob = add_user(&server, org, "bob@example.com", &["--group", "write"])
        .ok()
        .json();
    let bob_secret = bob["token"].as_str().unwrap().to_string();
    let bob_token = bob["token_id"].as_str().unwrap().to_string();
    server.run(&bob_secret, &["whoami"]).ok();

    let listed = server
        .run(
            &ada,
            &["tokens", "list", "--user", "bob@example.com", "-o", "json"],
        )
        .ok();
    assert_eq!(listed.json()["items"][0]["id"], bob_token.as_str());
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 1);
    let all = server.run(&ada, &["tokens", "list", "--all"]).ok().stdout;
    let header: Vec<&str> = all.lines().next().unwrap().split_whitespace().collect();
    assert!(header.contains(&"OWNER"), "{all}");
    assert!(
        all.contains("bob@example.com") && all.contains("ada@example.com"),
        "{all}"
    );
    for text in [&listed.stdout, &all] {
        assert!(
            !text.contains(&bob_secret) && !text.contains(&ada),
            "a secret is listed"
        );
    }
    server
        .run(&bob_secret, &["tokens", "list", "--all"])
        .fails_with("403 forbidden");
    // Bob cannot revoke Ada's token, and is told why.
    let refused = server
        .run(&bob_secret, &["tokens", "revoke", &ada_token])
        .expect_code(1);
    assert!(
        refused.stderr.contains(&format!(
            "no token `{ada_token}` among yours; an IAM admin can revoke another user's token"
        )),
        "{}",
        refused.stderr
    );
    server.run(&ada, &["whoami"]).ok();
    // Token names are unique per owner, without regard to case.
    server
        .run(&ada, &["tokens", "create", "--name", "dup"])
        .ok();
    server
        .run(&ada, &["tokens", "create", "--name", "DUP"])
        .fails_with("409 duplicate_name");
    server.run(&ada, &["tokens", "revoke", "dup"]).ok();
    // Ada revokes Bob's token by its name; Bob's next call is refused.
    let revoked = server
        .run(
            &ada,
            &[
                "tokens",
                "revoke",
                "initial token",
                "--user",
                "bob@example.com",
            ],
        )
        .ok();
    assert!(
        revoked
            .stdout
            .contains(&format!("Revoked token `{bob_token}`")),
        "{}",
        revoked.stdout
    );
    assert!(
        revoked.stdout.contains("bob@example.com"),
        "{}",
        revoked.stdout
    );
    server
        .run(&bob_secret, &["whoami"])
        .fails_with("401 unauthenticated");
    let gone = server
        .run(
            &ada,
            &[
                "tokens",
                "revoke",
                "initial token",
                "--user",
                "bob@example.com",
            ],
        )
        .expect_code(1);
    assert!(
        gone.stderr
            .contains("bob@example.com has no token `initial token`"),
        "{}",
        gone.stderr
    );
}

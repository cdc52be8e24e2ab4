//! From CompreFace's rows to ours: ids, roles, types and keys translated and checked, before
//! anything is written.
//!
//! - Users, applications and services take their CompreFace `guid` as id (the id CompreFace's
//!   admin API showed); subjects keep theirs. A `guid` that is no UUID (CompreFace never makes
//!   one, hand-written rows may have one) gets an id derived from it, the same on every run.
//! - An application key or service API key that is no UUID gets a key derived from it; for a
//!   service that means its clients need the new key, which the summary says.
//! - Names that Visage compares without regard to letter case (e-mail addresses, subjects of one
//!   service) and application names, which CompreFace's schema no longer keeps unique, must not
//!   collide among themselves: such twins are refused, to be renamed in CompreFace first.
//! - CompreFace's demo user, while nobody took it over (its `guid` is still
//!   `00000000-0000-0000-0000-000000000001`), is not imported: its password is public. Its
//!   memberships go to our demo user of the same id, if we still have it untaken.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use uuid::Uuid;
use visage_store::compreface::{
    ImportAccounts, ImportApp, ImportRole, ImportService, ImportStatistic, ImportSubject, ImportUser, SourceAccounts,
};
use visage_store::{Role, ServiceType};

/// What will be written, and what the summary tells about it.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub accounts: ImportAccounts,
    /// CompreFace's untaken demo user was left out.
    pub demo_user_skipped: bool,
    /// Services by type: recognition, detection, verification.
    pub service_types: [u64; 3],
    /// Things translated on the way (ids and keys that are no UUIDs, a second global OWNER).
    pub notes: Vec<String>,
    /// Each subject's name and its service's name, to name the faces.
    pub subjects: HashMap<Uuid, (String, String)>,
}

/// CompreFace's demo user's `guid` until somebody takes it over.
const DEMO_GUID: &str = "00000000-0000-0000-0000-000000000001";

/// Translates and checks CompreFace's rows; the problems that forbid importing them as they are.
pub fn plan(source: &SourceAccounts) -> Result<Plan, Vec<String>> {
    let mut plan = Plan::default();
    let mut problems = Vec::new();

    // Users.
    let mut user_ids = HashMap::new();
    let mut emails: HashMap<String, &str> = HashMap::new();
    let mut owner: Option<&str> = None;
    for user in &source.users {
        let id = id_of("user", &user.email, &user.guid, &mut plan.notes);
        user_ids.insert(user.id, id);
        if user.guid == DEMO_GUID {
            plan.demo_user_skipped = true;
            continue;
        }
        if let Some(twin) = emails.insert(user.email.to_lowercase(), &user.email) {
            problems.push(format!(
                "two users have the e-mail addresses {twin} and {}, which Visage takes for one (it ignores letter \
                 case): change one of them in CompreFace",
                user.email
            ));
        }
        let mut global_role = match user.global_role.as_deref() {
            None => Role::User,
            Some(letter) => match role_of(letter) {
                Some(role) => role,
                None => {
                    problems.push(format!("the user {} has the unknown global role {letter:?}", user.email));
                    continue;
                }
            },
        };
        if global_role == Role::Owner {
            match owner {
                None => owner = Some(&user.email),
                Some(first) => {
                    plan.notes.push(format!(
                        "CompreFace has more than one global OWNER; Visage has one: {first} is the OWNER, {} an \
                         ADMINISTRATOR",
                        user.email
                    ));
                    global_role = Role::Administrator;
                }
            }
        }
        plan.accounts.users.push(ImportUser {
            id,
            email: user.email.clone(),
            password_hash: user.password.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            enabled: user.enabled,
            global_role,
            allow_statistics: user.allow_statistics,
            created_at: user.reg_time.map(|t| t.and_utc()),
        });
    }
    // With real users, ours could never be taken over. Without (nobody signed up to CompreFace),
    // CompreFace's demo lands on ours, whose user (the same id) stays to be taken over.
    plan.accounts.remove_untaken_demo = !plan.accounts.users.is_empty();

    // Applications.
    let mut app_ids = HashMap::new();
    let mut app_names: HashMap<&str, ()> = HashMap::new();
    for app in &source.apps {
        let id = id_of("application", &app.name, &app.guid, &mut plan.notes);
        app_ids.insert(app.id, id);
        if app_names.insert(&app.name, ()).is_some() {
            problems.push(format!(
                "two applications are named \"{}\"; Visage keeps application names unique: rename one in CompreFace",
                app.name
            ));
        }
        let api_key = Uuid::parse_str(app.api_key.trim()).unwrap_or_else(|_| derived_id("app key", &app.api_key));
        plan.accounts.apps.push(ImportApp { id, name: app.name.clone(), api_key });
    }

    // Members.
    for role in &source.roles {
        let (Some(&user_id), Some(&app_id)) = (user_ids.get(&role.user_id), app_ids.get(&role.app_id)) else {
            continue;
        };
        match role_of(&role.role) {
            Some(role) => plan.accounts.roles.push(ImportRole { user_id, app_id, role }),
            None => problems.push(format!(
                "the member {} of application {} has the unknown role {:?}",
                role.user_id, role.app_id, role.role
            )),
        }
    }

    // Services.
    let mut services_by_key = HashMap::new();
    let mut service_ids = HashMap::new();
    for model in &source.models {
        let id = id_of("service", &model.name, &model.guid, &mut plan.notes);
        service_ids.insert(model.id, id);
        let Some(&app_id) = app_ids.get(&model.app_id) else {
            problems.push(format!("the service \"{}\" belongs to no application", model.name));
            continue;
        };
        let Some(service_type) = ServiceType::from_letter(model.model_type.trim()) else {
            problems.push(format!("the service \"{}\" has the unknown type {:?}", model.name, model.model_type));
            continue;
        };
        let api_key = match Uuid::parse_str(model.api_key.trim()) {
            Ok(key) => key,
            Err(_) => {
                let key = derived_id("api key", &model.api_key);
                plan.notes.push(format!(
                    "the service \"{}\" had the API key {:?}, which is no UUID; Visage's keys are: its clients \
                     must now send {key}",
                    model.name, model.api_key
                ));
                key
            }
        };
        plan.service_types[match service_type {
            ServiceType::Recognition => 0,
            ServiceType::Detection => 1,
            ServiceType::Verification => 2,
        }] += 1;
        services_by_key.insert(model.api_key.as_str(), (id, model.name.as_str()));
        plan.accounts.services.push(ImportService {
            id,
            app_id,
            name: model.name.clone(),
            service_type,
            api_key,
            created_at: model.created_date.map(|t| t.and_utc()),
        });
    }

    // Subjects.
    let mut subject_names: HashMap<(Uuid, String), &str> = HashMap::new();
    for subject in &source.subjects {
        let Some(&(model_id, service)) = services_by_key.get(subject.api_key.as_str()) else {
            plan.notes
                .push(format!("the subject \"{}\" ({}) belongs to no service: left out", subject.name, subject.id));
            continue;
        };
        if let Some(twin) = subject_names.insert((model_id, subject.name.to_lowercase()), &subject.name) {
            problems.push(format!(
                "the service \"{service}\" has the subjects \"{twin}\" and \"{}\", which Visage takes for one (it \
                 ignores letter case): rename or merge them in CompreFace",
                subject.name
            ));
        }
        plan.subjects.insert(subject.id, (subject.name.clone(), service.to_string()));
        plan.accounts.subjects.push(ImportSubject { id: subject.id, model_id, name: subject.name.clone() });
    }

    // Statistics.
    for statistic in &source.statistics {
        if let Some(&model_id) = service_ids.get(&statistic.model_id) {
            plan.accounts.statistics.push(ImportStatistic {
                model_id,
                day: statistic.day,
                requests: statistic.requests,
            });
        }
    }

    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(problems)
    }
}

/// The id of a CompreFace user, application or service: its `guid`, or one derived from it.
fn id_of(kind: &str, name: &str, guid: &str, notes: &mut Vec<String>) -> Uuid {
    Uuid::parse_str(guid.trim()).unwrap_or_else(|_| {
        let id = derived_id(kind, guid);
        notes.push(format!("the {kind} \"{name}\" has the id {guid:?}, which is no UUID; it is {id} in Visage"));
        id
    })
}

/// A UUID made from `text`: the same on every run.
fn derived_id(kind: &str, text: &str) -> Uuid {
    let digest = Sha256::digest(format!("compreface {kind} {text}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// CompreFace's role letters.
fn role_of(letter: &str) -> Option<Role> {
    match letter.trim() {
        "O" => Some(Role::Owner),
        "A" => Some(Role::Administrator),
        "U" => Some(Role::User),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use visage_store::accounts::DEMO_USER_ID;
    use visage_store::compreface::{SourceApp, SourceModel, SourceRole, SourceStatistic, SourceSubject, SourceUser};

    use super::*;

    fn user(id: i64, guid: &str, email: &str, role: &str) -> SourceUser {
        SourceUser {
            id,
            guid: guid.to_string(),
            email: email.to_string(),
            password: "{bcrypt}$2a$04$x".to_string(),
            first_name: "F".to_string(),
            last_name: "L".to_string(),
            enabled: true,
            global_role: Some(role.to_string()),
            allow_statistics: false,
            reg_time: None,
        }
    }

    fn model(id: i64, guid: &str, name: &str, api_key: &str, model_type: &str) -> SourceModel {
        SourceModel {
            id,
            guid: guid.to_string(),
            app_id: 1,
            name: name.to_string(),
            api_key: api_key.to_string(),
            model_type: model_type.to_string(),
            created_date: None,
        }
    }

    fn source() -> SourceAccounts {
        let key = "6f348698-6985-4296-914e-a5e3270cfad1";
        SourceAccounts {
            users: vec![
                user(1, "7c5e1d0a-0000-4000-8000-000000000001", "Owner@example.com", "O"),
                user(2, "7c5e1d0a-0000-4000-8000-000000000002", "second@example.com", "O"),
            ],
            apps: vec![SourceApp {
                id: 1,
                guid: "a1111a11-ae6d-4636-8b47-49754ca2f54b".to_string(),
                name: "Front door".to_string(),
                api_key: "not a key".to_string(),
            }],
            roles: vec![SourceRole { app_id: 1, user_id: 1, role: "O".to_string() }],
            models: vec![
                // As in CompreFace's load tests: a guid that is no UUID.
                model(1, "m1111a11-ae6d-4636-8b47-49754ca2f54b", "residents", key, "R"),
                model(2, "7c5e1d0a-0000-4000-8000-0000000000d1", "gate", "9f348698-6985-4296-914e-a5e3270cfad1", "D"),
            ],
            subjects: vec![SourceSubject {
                id: Uuid::from_u128(9),
                api_key: key.to_string(),
                name: "Alice".to_string(),
            }],
            statistics: vec![SourceStatistic {
                model_id: 2,
                day: NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
                requests: 7,
            }],
        }
    }

    #[test]
    fn translates_ids_roles_types_and_keys() {
        let plan = plan(&source()).unwrap();
        let accounts = &plan.accounts;
        assert_eq!(accounts.users.len(), 2);
        assert_eq!(accounts.users[0].id, "7c5e1d0a-0000-4000-8000-000000000001".parse::<Uuid>().unwrap());
        assert_eq!(accounts.users[0].global_role, Role::Owner);
        // One global OWNER: the second becomes an ADMINISTRATOR, and the notes say so.
        assert_eq!(accounts.users[1].global_role, Role::Administrator);
        assert!(plan.notes.iter().any(|n| n.contains("more than one global OWNER")), "{:?}", plan.notes);
        assert!(accounts.remove_untaken_demo);
        assert_eq!(
            accounts.roles,
            vec![ImportRole { user_id: accounts.users[0].id, app_id: accounts.apps[0].id, role: Role::Owner }]
        );
        // The service's guid is no UUID: a derived id, the same on every run, and a note.
        let residents = &accounts.services[0];
        assert_eq!(residents.id, plan_again().accounts.services[0].id);
        assert!(plan.notes.iter().any(|n| n.contains("m1111a11")), "{:?}", plan.notes);
        assert_eq!(residents.api_key, "6f348698-6985-4296-914e-a5e3270cfad1".parse::<Uuid>().unwrap());
        assert_eq!(
            (residents.service_type, accounts.services[1].service_type),
            (ServiceType::Recognition, ServiceType::Detection)
        );
        assert_eq!(plan.service_types, [1, 1, 0]);
        assert_eq!(accounts.subjects[0].model_id, residents.id);
        assert_eq!(plan.subjects[&Uuid::from_u128(9)], ("Alice".to_string(), "residents".to_string()));
        assert_eq!(accounts.statistics[0].model_id, accounts.services[1].id);
        assert_eq!(accounts.statistics[0].requests, 7);
    }

    fn plan_again() -> Plan {
        plan(&source()).unwrap()
    }

    #[test]
    fn the_untaken_demo_user_is_left_out_and_its_roles_go_to_ours() {
        let mut source = source();
        source.users = vec![user(0, DEMO_GUID, "demo@demo.com", "O")];
        source.roles = vec![SourceRole { app_id: 1, user_id: 0, role: "O".to_string() }];
        let plan = plan(&source).unwrap();
        assert!(plan.demo_user_skipped);
        assert!(plan.accounts.users.is_empty());
        assert!(!plan.accounts.remove_untaken_demo);
        assert_eq!(plan.accounts.roles[0].user_id, DEMO_USER_ID);
    }

    #[test]
    fn letter_case_twins_and_unknown_letters_are_refused() {
        let mut source = source();
        source.users.push(user(3, "7c5e1d0a-0000-4000-8000-000000000003", "owner@EXAMPLE.com", "U"));
        source.subjects.push(SourceSubject {
            id: Uuid::from_u128(10),
            api_key: source.models[0].api_key.clone(),
            name: "ALICE".to_string(),
        });
        source.models[1].model_type = "X".to_string();
        let problems = plan(&source).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("Owner@example.com and owner@EXAMPLE.com"), "{problems:?}");
        assert!(problems[1].contains("unknown type \"X\""), "{problems:?}");
        assert!(problems[2].contains("\"Alice\" and \"ALICE\""), "{problems:?}");
    }
}

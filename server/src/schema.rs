//! Table definitions shared by both backends. Written by hand (not `diesel print-schema`)
//! because one definition must describe the SQLite and the PostgreSQL migrations alike:
//! text ids, UTC timestamps, JSON as text.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        disabled -> Bool,
        cert_number -> Nullable<Text>,
        cert_valid_until -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        device_id -> Text,
        refresh_hash -> Text,
        previous_hash -> Nullable<Text>,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    login_attempts (key) {
        key -> Text,
        failures -> Integer,
        first_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    uploads (id) {
        id -> Text,
        attachment_id -> Text,
        owner_id -> Text,
        length -> BigInt,
        #[sql_name = "offset"]
        offset_ -> BigInt,
        metadata -> Text,
        state -> Text,
        error_code -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        expires_at -> Timestamp,
        lock_token -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        owner_id -> Text,
        kind -> Text,
        media_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        filename -> Nullable<Text>,
        device_model -> Nullable<Text>,
        captured_at -> Nullable<Timestamp>,
        exif_captured_at -> Nullable<Timestamp>,
        received_at -> Timestamp,
        reported_lat -> Nullable<Double>,
        reported_lon -> Nullable<Double>,
        exif_lat -> Nullable<Double>,
        exif_lon -> Nullable<Double>,
        position_gap_m -> Nullable<Double>,
        position_mismatch -> Bool,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        duration_ms -> Nullable<BigInt>,
        phash -> Nullable<Text>,
        similar_to -> Nullable<Text>,
        proves -> Nullable<Text>,
        original_key -> Text,
        thumbnail_key -> Nullable<Text>,
        display_key -> Nullable<Text>,
        details -> Text,
        phase -> Nullable<Text>,
        transcript -> Nullable<Text>,
        derive_state -> Nullable<Text>,
        derive_error -> Nullable<Text>,
    }
}

// Photos whose copies are still to be made (migration 2026-11-30-000100).

diesel::table! {
    photo_jobs (attachment_id) {
        attachment_id -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

// Photos' perceptual hashes in four indexed 16-bit bands, for the near-duplicate search
// (migration 2026-11-30-000120).

diesel::table! {
    phash_bands (attachment_id) {
        attachment_id -> Text,
        b0 -> Integer,
        b1 -> Integer,
        b2 -> Integer,
        b3 -> Integer,
    }
}

diesel::joinable!(uploads -> users (owner_id));
diesel::joinable!(attachments -> users (owner_id));

// The grid (migration 000003): versions, cells, cell members, squads and their cells.

diesel::table! {
    grid_versions (version) {
        version -> BigInt,
        imported_at -> Timestamp,
        imported_by -> Nullable<Text>,
        source -> Text,
        town_count -> Integer,
        cell_count -> Integer,
        is_current -> Bool,
    }
}

diesel::table! {
    cells (version, code) {
        version -> BigInt,
        code -> Text,
        name -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
        geometry -> Text,
        min_lon -> Double,
        min_lat -> Double,
        max_lon -> Double,
        max_lat -> Double,
    }
}

diesel::table! {
    cell_members (cell_code, user_id) {
        cell_code -> Text,
        user_id -> Text,
        role -> Text,
        assigned_at -> Timestamp,
    }
}

diesel::table! {
    squads (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        domain -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    squad_cells (squad_id, cell_code) {
        squad_id -> Text,
        cell_code -> Text,
    }
}

diesel::joinable!(cells -> grid_versions (version));
diesel::joinable!(cell_members -> users (user_id));
diesel::joinable!(squad_cells -> squads (squad_id));
diesel::allow_tables_to_appear_in_same_query!(
    settings,
    users,
    user_roles,
    sessions,
    login_attempts,
    uploads,
    attachments,
    grid_versions,
    cells,
    cell_members,
    squads,
    squad_cells,
);

// The closed loop (workflow). Kept in its own `allow_tables…` group: no query joins these
// with the account or grid tables.

diesel::table! {
    categories (code) {
        code -> Text,
        name -> Text,
        domain -> Text,
        handling -> Text,
        simple_procedure -> Bool,
        penalty_possible -> Bool,
        legal_basis -> Text,
        active -> Bool,
    }
}

diesel::table! {
    squad_members (squad_id, user_id) {
        squad_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        status -> Text,
        source -> Text,
        reporter_id -> Text,
        category_code -> Text,
        village_code -> Nullable<Text>,
        area_code -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        description -> Text,
        task_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        data -> Text,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        report_id -> Text,
        squad_id -> Text,
        status -> Text,
        village_code -> Nullable<Text>,
        category_code -> Text,
        dispatched_at -> Timestamp,
        ack_due_at -> Timestamp,
        due_at -> Timestamp,
        warned_at -> Nullable<Timestamp>,
        escalated_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        data -> Text,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        number -> Nullable<Text>,
        status -> Text,
        task_id -> Text,
        report_id -> Text,
        updated_at -> Timestamp,
        data -> Text,
    }
}

diesel::table! {
    command_log_head (id) {
        id -> Integer,
        seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Text,
        actor_lat -> Nullable<Double>,
        actor_lon -> Nullable<Double>,
        command -> Text,
        report_id -> Nullable<Text>,
        task_id -> Nullable<Text>,
        case_id -> Nullable<Text>,
        payload -> Text,
        before -> Text,
        after -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    change_log (seq, entity_type, entity_id) {
        seq -> BigInt,
        entity_type -> Text,
        entity_id -> Text,
        village_code -> Nullable<Text>,
        squad_id -> Nullable<Text>,
        reporter_id -> Nullable<Text>,
        at -> Timestamp,
        prev_village_code -> Nullable<Text>,
        prev_squad_id -> Nullable<Text>,
    }
}

diesel::table! {
    sync_devices (user_id, device_id) {
        user_id -> Text,
        device_id -> Text,
        next_seq -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sync_receipts (user_id, device_id, device_seq) {
        user_id -> Text,
        device_id -> Text,
        device_seq -> BigInt,
        status -> Text,
        command_seq -> Nullable<BigInt>,
        code -> Nullable<Text>,
        message -> Nullable<Text>,
        command -> Text,
        command_hash -> Text,
        entities -> Text,
        occurred_at -> Nullable<Timestamp>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        year -> Integer,
        name -> Text,
        is_off_day -> Bool,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        task_id -> Nullable<Text>,
        message -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    categories,
    squad_members,
    reports,
    tasks,
    cases,
    command_log_head,
    audit_log,
    change_log,
    counters,
    sync_devices,
    sync_receipts,
    calendar_days,
    notifications,
    departments,
    department_liaisons,
);

diesel::table! {
    departments (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        domain -> Text,
        phone -> Text,
        address -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    department_liaisons (user_id) {
        user_id -> Text,
        department_id -> Text,
    }
}

diesel::joinable!(department_liaisons -> departments (department_id));
diesel::joinable!(department_liaisons -> users (user_id));
// A department's liaisons are listed with their accounts.
diesel::allow_tables_to_appear_in_same_query!(department_liaisons, users);

// The department a report was transferred to (migration 2026-11-30-000019_agency_transfers):
// a column of `reports`, declared apart to keep merges simple.
pub mod reports_transfer {
    diesel::table! {
        reports (id) {
            id -> Text,
            transfer_department_id -> Nullable<Text>,
        }
    }
}
use self::reports_transfer::reports as reports_by_transfer;
diesel::allow_tables_to_appear_in_same_query!(reports_by_transfer, reports);
diesel::allow_tables_to_appear_in_same_query!(reports_by_transfer, tasks);
diesel::allow_tables_to_appear_in_same_query!(reports_by_transfer, cases);

// Sharing with other systems (migration 2026-11-30-000020_sharing).

diesel::table! {
    open311_requests (report_id) {
        report_id -> Text,
        client -> Text,
        account_id -> Nullable<Text>,
        device_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        name -> Text,
        url -> Text,
        secret -> Text,
        kinds -> Text,
        department_id -> Nullable<Text>,
        active -> Bool,
        cursor_seq -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        event_seq -> BigInt,
        kind -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (delivery_id, attempt) {
        delivery_id -> Text,
        attempt -> Integer,
        at -> Timestamp,
        http_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(open311_requests, reports);
diesel::allow_tables_to_appear_in_same_query!(webhook_deliveries, webhook_subscriptions);

diesel::table! {
    shared_items (id) {
        id -> Text,
        department_id -> Text,
        kind -> Text,
        title -> Text,
        number -> Nullable<Text>,
        party_name -> Nullable<Text>,
        credit_code -> Nullable<Text>,
        address -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        valid_from -> Nullable<Text>,
        valid_until -> Nullable<Text>,
        content -> Text,
        source -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    decision_notices (id) {
        id -> Text,
        case_id -> Text,
        department_id -> Text,
        decided_at -> Timestamp,
        due_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        delivered_via -> Nullable<Text>,
        flagged_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(audit_log, webhook_deliveries);
diesel::allow_tables_to_appear_in_same_query!(audit_log, webhook_subscriptions);
diesel::allow_tables_to_appear_in_same_query!(decision_notices, cases);

diesel::table! {
    meetings (id) {
        id -> Text,
        title -> Text,
        scheduled_at -> Timestamp,
        place -> Text,
        chair_department_id -> Nullable<Text>,
        minutes -> Nullable<Text>,
        minutes_issued_at -> Nullable<Timestamp>,
        minutes_issued_by -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
        cancel_reason -> Nullable<Text>,
    }
}

diesel::table! {
    meeting_members (meeting_id, department_id) {
        meeting_id -> Text,
        department_id -> Text,
    }
}

diesel::table! {
    meeting_topics (id) {
        id -> Text,
        meeting_id -> Text,
        department_id -> Nullable<Text>,
        title -> Text,
        description -> Text,
        submitted_by -> Text,
        submitted_at -> Timestamp,
        decision -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    meeting_items (id) {
        id -> Text,
        meeting_id -> Text,
        position -> Integer,
        title -> Text,
        owner_department_id -> Text,
        owner_person -> Text,
        due_at -> Timestamp,
        standard -> Text,
        result -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<Text>,
        flagged_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    meeting_item_progress (id) {
        id -> Text,
        item_id -> Text,
        note -> Text,
        reported_by -> Text,
        reported_at -> Timestamp,
    }
}

diesel::joinable!(meeting_item_progress -> meeting_items (item_id));
diesel::allow_tables_to_appear_in_same_query!(meetings, meeting_items);
diesel::allow_tables_to_appear_in_same_query!(meeting_items, meeting_item_progress);

// Assistance requests (migration 2026-11-30-000040_assistance): an index of the requests kept
// in their reports, by addressed department, state and deadline.
diesel::table! {
    assistance_requests (id) {
        id -> Text,
        report_id -> Text,
        department_id -> Text,
        status -> Text,
        due_at -> Timestamp,
        requested_at -> Timestamp,
    }
}

diesel::joinable!(assistance_requests -> reports (report_id));
diesel::allow_tables_to_appear_in_same_query!(assistance_requests, reports);

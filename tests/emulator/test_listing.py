"""List: the AIP-160 filter subset, orderBy, pageSize and pageToken."""

import requests

from tests.emulator.helpers import body_for, create, jobs_url


def make_jobs(emu, spec) -> list[dict]:
    """Create three jobs with distinct labels and display names, oldest first."""
    rows = [
        ("run-a", {"team": "pricing", "kind": "object"}),
        ("run-b", {"team": "pricing"}),
        ("run-c", {"team": "search", "kind": "drift"}),
    ]
    jobs = []
    for job_id, labels in rows:
        body = {**body_for(spec, a=1), "labels": labels, "displayName": f"display-{job_id}"}
        response = create(emu, job_id, body)
        assert response.status_code == 200
        jobs.append(response.json())
    return jobs


def list_ids(emu, **params) -> list[str]:
    """List and return the job ids."""
    response = requests.get(jobs_url(emu), params=params, timeout=10)
    assert response.status_code == 200, response.text
    return [job["name"].rsplit("/", 1)[-1] for job in response.json().get("pipelineJobs", [])]


def test_default_order_is_newest_first(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    assert list_ids(recorder) == ["run-c", "run-b", "run-a"]


def test_order_by_create_time_ascending_and_display_name_desc(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    assert list_ids(recorder, orderBy="create_time") == ["run-a", "run-b", "run-c"]
    assert list_ids(recorder, orderBy="display_name desc") == ["run-c", "run-b", "run-a"]


def test_label_equality_and_presence(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    assert list_ids(recorder, filter='labels.team="pricing"') == ["run-b", "run-a"]
    assert list_ids(recorder, filter="labels.kind:*") == ["run-c", "run-a"]
    assert list_ids(recorder, filter='labels.team="pricing" AND labels.kind:*') == ["run-a"]


def test_create_time_comparisons(recorder, specs):
    jobs = make_jobs(recorder, specs["tiny"])
    middle = jobs[1]["createTime"]
    assert list_ids(recorder, filter=f'create_time>"{middle}"') == ["run-c"]
    assert list_ids(recorder, filter=f'create_time>="{middle}"') == ["run-c", "run-b"]
    assert list_ids(recorder, filter=f'create_time<"{middle}"') == ["run-a"]
    assert list_ids(recorder, filter=f'create_time<="{middle}"') == ["run-b", "run-a"]


def test_state_and_display_name(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    assert list_ids(recorder, filter='display_name="display-run-b"') == ["run-b"]
    assert len(list_ids(recorder, filter='state="PIPELINE_STATE_PENDING"')) == 3
    assert list_ids(recorder, filter="state=PIPELINE_STATE_SUCCEEDED") == []


def test_paging_walks_every_job_once(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    seen, token = [], ""
    for _ in range(5):
        response = requests.get(
            jobs_url(recorder), params={"pageSize": 2, "pageToken": token}, timeout=10
        ).json()
        seen += [job["name"].rsplit("/", 1)[-1] for job in response["pipelineJobs"]]
        token = response.get("nextPageToken", "")
        if not token:
            break
    assert seen == ["run-c", "run-b", "run-a"]


def test_a_page_ending_at_the_last_job_has_no_next_token(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    response = requests.get(jobs_url(recorder), params={"pageSize": 3}, timeout=10).json()
    assert len(response["pipelineJobs"]) == 3
    assert "nextPageToken" not in response


def test_page_token_is_bound_to_its_query(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    token = requests.get(jobs_url(recorder), params={"pageSize": 1}, timeout=10).json()[
        "nextPageToken"
    ]
    response = requests.get(
        jobs_url(recorder),
        params={"pageSize": 1, "pageToken": token, "orderBy": "display_name"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "pageToken was issued for a different filter or orderBy."
    )


def test_unsupported_filter_term_is_named(recorder):
    response = requests.get(
        jobs_url(recorder), params={"filter": "labels.team~pricing"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(
        "filter: unsupported term 'labels.team~pricing'."
    )


def test_bad_timestamp_is_named(recorder):
    response = requests.get(
        jobs_url(recorder), params={"filter": 'create_time>"yesterday"'}, timeout=10
    )
    assert (
        response.json()["error"]["message"] == "filter: 'yesterday' is not an RFC 3339 timestamp."
    )


def test_list_is_scoped_to_the_parent(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    other = f"{recorder.url}/v1/projects/other/locations/us-central1/pipelineJobs"
    assert requests.get(other, timeout=10).json() == {}


def test_or_binds_tighter_than_and_as_aip_160_says(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    either = 'labels.kind="object" OR labels.kind="drift"'
    assert list_ids(recorder, filter=either) == ["run-c", "run-a"]
    # a AND b OR c is a AND (b OR c), not (a AND b) OR c
    assert list_ids(recorder, filter=f'labels.team="pricing" AND {either}') == ["run-a"]
    teams = '(labels.team="search" OR labels.team="pricing")'
    assert list_ids(recorder, filter=f"{teams} AND {either}") == ["run-c", "run-a"]


def test_not_and_states_or_ed(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    pending = 'state="PIPELINE_STATE_PENDING"'
    assert list_ids(recorder, filter=f'{pending} OR state="PIPELINE_STATE_RUNNING"') == [
        "run-c", "run-b", "run-a"
    ]  # fmt: skip
    assert list_ids(recorder, filter=f'NOT {pending}') == []
    assert list_ids(recorder, filter='-labels.kind:* AND labels.team="pricing"') == ["run-b"]


def test_quoted_values_may_hold_keywords_and_parentheses(recorder, specs):
    make_jobs(recorder, specs["tiny"])
    assert list_ids(recorder, filter='display_name="a AND (b"') == []


def test_unbalanced_parentheses_are_invalid(recorder):
    response = requests.get(
        jobs_url(recorder), params={"filter": '(labels.team="pricing"'}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "filter: a '(' is not closed."

"""Two officers completing one task at the same moment: exactly one wins, the case stays whole."""

from __future__ import annotations

import threading

from tests.flow import FORMS, open_task, register


def test_two_concurrent_completions_one_wins(app_factory) -> None:  # type: ignore[no-untyped-def]
    # Two "server processes" on one database; mfa.officer and mfa.head may both do the forwarding.
    first, second = app_factory(), app_factory()
    for round_ in range(3):
        case_id = register(first, reference=f"AL KAZ {round_ + 1}/2024")["id"]
        task = open_task(first, case_id, "forward_communication")
        headers = [first.headers("mfa.officer"), second.headers("mfa.head")]
        barrier = threading.Barrier(2)
        results: list[int] = [0, 0]

        def attempt(i: int, api, headers=headers, task=task, barrier=barrier, results=results) -> None:  # type: ignore[no-untyped-def]
            barrier.wait()
            r = api.client.post(
                f"/api/tasks/{task['id']}/complete", headers=headers[i], json={"data": FORMS["forward_communication"]}
            )
            results[i] = r.status_code

        threads = [threading.Thread(target=attempt, args=(i, api)) for i, api in enumerate((first, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results) == [200, 409], results

        history = first.get("auditor", f"/api/instances/{case_id}/history").json()
        assert [e["task_id"] for e in history if e["type"] == "task_completed"] == [task["id"]]
        assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
        created = sorted(
            (e["payload"]["task"], e["payload"]["organisation"]) for e in history if e["type"] == "task_created"
        )
        assert created == [
            ("forward_communication", "MFA"),
            ("ombudsman_acknowledge_communication", "OMBUDSMAN"),
            ("prepare_information", "MINJUST"),
            ("prepare_information", "MVD"),
        ]
        case = first.get("auditor", f"/api/instances/{case_id}").json()
        assert len(case["tasks"]) == 3 and case["data"]["bodies"] == ["MVD", "MINJUST"]

"""`sort=@rowid` on a view collection is answered on both databases (found by tests/fuzz: a 500
on PostgreSQL, whose views have no `_rowid` column)."""

from __future__ import annotations

from tests.conftest import OPEN, Api, unique


async def test_sort_by_rowid_on_a_view(api: Api) -> None:
    base = unique("rowidsrc")
    await api.create_collection(
        {"name": base, "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]}
    )
    for t in ("a", "b"):
        r = await api.client.post(f"/api/collections/{base}/records", json={"t": t})
        assert r.status_code == 200
    view = unique("rowidview")
    await api.create_collection(
        {"name": view, "type": "view", "listRule": "", "viewQuery": f"SELECT id, t FROM {base}"}
    )
    for sort in ("@rowid", "-@rowid", "t,-@rowid", "-@random,+@rowid"):
        r = await api.client.get(f"/api/collections/{view}/records", params={"sort": sort}, headers=api.su())
        assert r.status_code == 200, (sort, r.text)
        assert sorted(i["t"] for i in r.json()["items"]) == ["a", "b"]

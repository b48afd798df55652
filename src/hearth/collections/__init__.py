"""The collection service: create/update/delete/truncate/import as the API offers them.

It sits above schema, query, records and auth: it checks rules with the query resolver
(rule_check.py), empties tables through the record service and validates OAuth2 provider names
against auth's registry, none of which the schema package may import.
"""

"""Per-organisation tallies of the open risks, kept by PostgreSQL triggers on the register.

Statement-level triggers see every row a statement inserts, updates or deletes (bulk loads and
cascades included) through its transition tables, and fold them into the tallies with one upsert
per tally in key order, so concurrent writers lock the few rows they share in the same order.
SQLite has no such triggers: there the portal counts the register directly.
"""

import django.db.models.deletion
from django.db import migrations, models

# The open risks a statement added (+1) or took away (-1): a source per kind of statement,
# since a trigger sees only the transition tables of its own event.
CHANGES = {
    "INSERT": "SELECT organization_id, status, inherent_level, residual_level, next_review_date, 1 AS n FROM new_rows",
    "DELETE": "SELECT organization_id, status, inherent_level, residual_level, next_review_date, -1 AS n FROM old_rows",
}
CHANGES["UPDATE"] = CHANGES["INSERT"] + " UNION ALL " + CHANGES["DELETE"]

TRIGGER_FUNCTION = r"""
CREATE OR REPLACE FUNCTION risk_open_tallies_apply() RETURNS trigger LANGUAGE plpgsql AS $function$
DECLARE
    changes text := CASE TG_OP WHEN 'INSERT' THEN %(INSERT)s WHEN 'DELETE' THEN %(DELETE)s ELSE %(UPDATE)s END;
BEGIN
    EXECUTE format($sql$
        INSERT INTO risk_openrisktally AS tally (organization_id, status, inherent_level, residual_level, count)
        SELECT organization_id, status, inherent_level, residual_level, sum(n)
        FROM (%%s) AS changed WHERE status <> 'closed'
        GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (organization_id, status, inherent_level, residual_level)
        DO UPDATE SET count = tally.count + EXCLUDED.count
    $sql$, changes);
    EXECUTE format($sql$
        INSERT INTO risk_openriskreviewtally AS tally (organization_id, review_date, count)
        SELECT organization_id, next_review_date, sum(n)
        FROM (%%s) AS changed WHERE status <> 'closed' AND next_review_date IS NOT NULL
        GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
        ON CONFLICT (organization_id, review_date) DO UPDATE SET count = tally.count + EXCLUDED.count
    $sql$, changes);
    IF TG_OP <> 'INSERT' THEN
        -- What fell to zero goes, so the tallies stay as small as the variety of the register and
        -- an organisation deleted with its risks leaves nothing behind.
        EXECUTE format($sql$
            DELETE FROM risk_openrisktally
            WHERE count = 0 AND organization_id IN (SELECT organization_id FROM (%%s) AS changed)
        $sql$, changes);
        EXECUTE format($sql$
            DELETE FROM risk_openriskreviewtally
            WHERE count = 0 AND organization_id IN (SELECT organization_id FROM (%%s) AS changed)
        $sql$, changes);
    END IF;
    RETURN NULL;
END
$function$;
""" % {op: "'" + source.replace("'", "''") + "'" for op, source in CHANGES.items()}

TRIGGERS = """
CREATE TRIGGER risk_open_tallies_insert AFTER INSERT ON risk_risk
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION risk_open_tallies_apply();
CREATE TRIGGER risk_open_tallies_update AFTER UPDATE ON risk_risk
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION risk_open_tallies_apply();
CREATE TRIGGER risk_open_tallies_delete AFTER DELETE ON risk_risk
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION risk_open_tallies_apply();
"""

# The register as it stands, counted once under a lock that lets readers on but holds writers
# until the triggers are in place.
FILL = """
LOCK TABLE risk_risk IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO risk_openrisktally (organization_id, status, inherent_level, residual_level, count)
    SELECT organization_id, status, inherent_level, residual_level, count(*) FROM risk_risk
    WHERE status <> 'closed' GROUP BY 1, 2, 3, 4;
INSERT INTO risk_openriskreviewtally (organization_id, review_date, count)
    SELECT organization_id, next_review_date, count(*) FROM risk_risk
    WHERE status <> 'closed' AND next_review_date IS NOT NULL GROUP BY 1, 2;
"""

DROP = """
DROP TRIGGER IF EXISTS risk_open_tallies_insert ON risk_risk;
DROP TRIGGER IF EXISTS risk_open_tallies_update ON risk_risk;
DROP TRIGGER IF EXISTS risk_open_tallies_delete ON risk_risk;
DROP FUNCTION IF EXISTS risk_open_tallies_apply();
"""


def _run(schema_editor, *statements: str) -> None:
    # A plain cursor, without parameters: the function's body has its own % placeholders.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def install(apps, schema_editor):
    _run(schema_editor, TRIGGER_FUNCTION, FILL, TRIGGERS)


def uninstall(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):

    dependencies = [
        ('aims', '0013_trigram_search'),
        ('risk', '0008_soa_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='OpenRiskReviewTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('review_date', models.DateField()),
                ('count', models.IntegerField(default=0)),
                ('organization', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='aims.organization')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('organization', 'review_date'), name='openriskreviewtally_unique_day')],
            },
        ),
        migrations.CreateModel(
            name='OpenRiskTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(max_length=20)),
                ('inherent_level', models.CharField(max_length=10)),
                ('residual_level', models.CharField(max_length=10)),
                ('count', models.IntegerField(default=0)),
                ('organization', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='aims.organization')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('organization', 'status', 'inherent_level', 'residual_level'), name='openrisktally_unique_key')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]

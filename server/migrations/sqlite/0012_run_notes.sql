-- What a run noticed and did besides syncing, shown in the run history: e.g. that Facebook
-- held two audiences with the campaign's key (one created twice after a lost answer) and which
-- one was deleted. One note per line.
alter table sync_runs add column notes text;

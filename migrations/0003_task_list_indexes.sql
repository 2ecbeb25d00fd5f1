DROP INDEX "tasks_project_due_idx";--> statement-breakpoint
CREATE INDEX "tasks_project_status_due_idx" ON "tasks" USING btree ("project_id","status",coalesce("due_date", 'infinity'::date),"id");--> statement-breakpoint
CREATE INDEX "tasks_reporter_idx" ON "tasks" USING btree ("reporter_id");
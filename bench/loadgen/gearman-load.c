/*
 * Load generator for `npm run bench -- tcp`: drives a Gearman server with libgearman (the
 * C library behind PHP's extension and the gearman tools), so geartrain and gearmand are
 * measured with the same client. Prints one line of key=value figures.
 *
 *   gearman-load PORT background JOBS WORKERS       submit JOBS background jobs, drain them
 *   gearman-load PORT sequential JOBS               one client, one worker, one job at a time
 *   gearman-load PORT concurrent JOBS CLIENTS WORKERS
 *   gearman-load PORT large JOBS BYTES              foreground round trips of BYTES each
 *   gearman-load PORT queue JOBS                    submit JOBS background jobs, no worker
 *   gearman-load PORT workers WORKERS               echo workers only, until stdin closes
 *
 * CLIENTS or WORKERS may be 0 (the other side is another program: the client benchmark).
 */
#include <libgearman/gearman.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static in_port_t port;
static atomic_long worked;
static atomic_int stop_workers;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "gearman-load: %s: %s\n", what, detail);
  exit(1);
}

/* The job: echo the workload back. */
static void *echo(gearman_job_st *job, void *context, size_t *size, gearman_return_t *ret) {
  (void)context;
  size_t n = gearman_job_workload_size(job);
  void *out = malloc(n > 0 ? n : 1);
  if (n > 0) memcpy(out, gearman_job_workload(job), n);
  *size = n;
  *ret = GEARMAN_SUCCESS;
  atomic_fetch_add(&worked, 1);
  return out;
}

static void *worker_thread(void *arg) {
  (void)arg;
  gearman_worker_st *worker = gearman_worker_create(NULL);
  if (gearman_worker_add_server(worker, "127.0.0.1", port) != GEARMAN_SUCCESS) die("worker", "add_server");
  gearman_worker_set_timeout(worker, 100);
  gearman_worker_add_function(worker, "bench", 0, echo, NULL);
  while (!atomic_load(&stop_workers)) {
    gearman_return_t ret = gearman_worker_work(worker);
    if (ret != GEARMAN_SUCCESS && ret != GEARMAN_TIMEOUT && ret != GEARMAN_IO_WAIT &&
        ret != GEARMAN_NO_JOBS) {
      die("worker", gearman_worker_error(worker));
    }
  }
  gearman_worker_free(worker);
  return NULL;
}

static pthread_t *start_workers(int count) {
  pthread_t *threads = calloc((size_t)count, sizeof(pthread_t));
  for (int i = 0; i < count; i++) pthread_create(&threads[i], NULL, worker_thread, NULL);
  return threads;
}

static void stop(pthread_t *threads, int count) {
  atomic_store(&stop_workers, 1);
  for (int i = 0; i < count; i++) pthread_join(threads[i], NULL);
  free(threads);
}

static gearman_client_st *client_create(void) {
  gearman_client_st *client = gearman_client_create(NULL);
  if (gearman_client_add_server(client, "127.0.0.1", port) != GEARMAN_SUCCESS) die("client", "add_server");
  return client;
}

/* Submits JOBS background jobs, pipelined in task sets of 1000. */
static void submit_background(long jobs) {
  gearman_client_st *client = client_create();
  char payload[17] = "0123456789abcdef";
  for (long sent = 0; sent < jobs;) {
    long batch = jobs - sent < 1000 ? jobs - sent : 1000;
    for (long i = 0; i < batch; i++) {
      gearman_return_t ret;
      gearman_client_add_task_background(client, NULL, NULL, "bench", NULL, payload, 16, &ret);
      if (ret != GEARMAN_SUCCESS) die("add_task_background", gearman_client_error(client));
    }
    if (gearman_client_run_tasks(client) != GEARMAN_SUCCESS) die("run_tasks", gearman_client_error(client));
    gearman_client_task_free_all(client);
    sent += batch;
  }
  gearman_client_free(client);
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

struct round_trips {
  long jobs;
  size_t bytes;
  double *latencies;
};

static void *round_trip_thread(void *arg) {
  struct round_trips *rt = arg;
  gearman_client_st *client = client_create();
  char *payload = malloc(rt->bytes);
  memset(payload, 'x', rt->bytes);
  for (long i = 0; i < rt->jobs; i++) {
    size_t size;
    gearman_return_t ret;
    double start = now();
    void *result = gearman_client_do(client, "bench", NULL, payload, rt->bytes, &size, &ret);
    if (rt->latencies != NULL) rt->latencies[i] = now() - start;
    if (ret != GEARMAN_SUCCESS || size != rt->bytes) die("do", gearman_client_error(client));
    free(result);
  }
  free(payload);
  gearman_client_free(client);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) die("usage", "gearman-load PORT MODE JOBS [...]");
  port = (in_port_t)atoi(argv[1]);
  const char *mode = argv[2];
  long jobs = atol(argv[3]);

  if (strcmp(mode, "background") == 0) {
    int workers = argc > 4 ? atoi(argv[4]) : 4;
    double start = now();
    submit_background(jobs);
    double submitted = now();
    pthread_t *threads = start_workers(workers);
    while (atomic_load(&worked) < jobs) {
      struct timespec pause = {0, 1000000};
      nanosleep(&pause, NULL);
    }
    double end = now();
    stop(threads, workers);
    printf("elapsed=%.6f jobs_per_s=%.1f submit_per_s=%.1f drain_per_s=%.1f\n", end - start,
           (double)jobs / (end - start), (double)jobs / (submitted - start),
           (double)jobs / (end - submitted));
  } else if (strcmp(mode, "queue") == 0) {
    double start = now();
    submit_background(jobs);
    printf("elapsed=%.6f\n", now() - start);
  } else if (strcmp(mode, "sequential") == 0 || strcmp(mode, "large") == 0) {
    size_t bytes = strcmp(mode, "large") == 0 ? (size_t)atol(argv[4]) : 16;
    pthread_t *threads = start_workers(1);
    struct round_trips rt = {jobs, bytes, calloc((size_t)jobs, sizeof(double))};
    double start = now();
    round_trip_thread(&rt);
    double elapsed = now() - start;
    stop(threads, 1);
    qsort(rt.latencies, (size_t)jobs, sizeof(double), compare);
    printf("elapsed=%.6f jobs_per_s=%.1f p50_us=%.1f p99_us=%.1f mb_per_s=%.1f\n", elapsed,
           (double)jobs / elapsed, rt.latencies[jobs / 2] * 1e6, rt.latencies[jobs * 99 / 100] * 1e6,
           (double)jobs * 2.0 * (double)bytes / elapsed / 1e6);
  } else if (strcmp(mode, "concurrent") == 0) {
    int clients = argc > 4 ? atoi(argv[4]) : 16;
    int workers = argc > 5 ? atoi(argv[5]) : 4;
    pthread_t *threads = start_workers(workers);
    pthread_t *callers = calloc((size_t)clients, sizeof(pthread_t));
    struct round_trips rt = {jobs / clients, 16, NULL};
    double start = now();
    for (int i = 0; i < clients; i++) pthread_create(&callers[i], NULL, round_trip_thread, &rt);
    for (int i = 0; i < clients; i++) pthread_join(callers[i], NULL);
    double elapsed = now() - start;
    stop(threads, workers);
    printf("elapsed=%.6f jobs_per_s=%.1f\n", elapsed, (double)(rt.jobs * clients) / elapsed);
  } else if (strcmp(mode, "workers") == 0) {
    int workers = atoi(argv[3]);
    pthread_t *threads = start_workers(workers);
    printf("ready=1\n");
    fflush(stdout);
    while (getchar() != EOF) {
    }
    stop(threads, workers);
    printf("worked=%ld\n", atomic_load(&worked));
  } else {
    die("unknown mode", mode);
  }
  return 0;
}

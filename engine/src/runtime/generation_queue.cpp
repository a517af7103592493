#include "strata/generation_queue.h"

#include <algorithm>

namespace strata {

struct GenerationQueue::Request {
    uint64_t id = 0;
    std::vector<int32_t> prompt;
    GenerateParams params;
    TextCallback on_text;
    DoneCallback done;
    std::atomic<bool> cancel{false};
};

Result<std::unique_ptr<GenerationQueue>> GenerationQueue::create(Model& model, int n_workers) {
    std::unique_ptr<GenerationQueue> q(new GenerationQueue());
    for (int i = 0; n_workers <= 0 || i < n_workers; ++i) {
        auto seq = model.create_sequence();
        if (!seq.ok()) {
            if (i == 0) return seq.status();
            break;  // as many workers as there were free slots
        }
        q->sequences_.push_back(std::move(seq).value());
    }
    for (auto& s : q->sequences_) {
        Sequence* seq = s.get();
        q->workers_.emplace_back([raw = q.get(), seq] { raw->worker_loop(*seq); });
    }
    return q;
}

GenerationQueue::~GenerationQueue() {
    std::deque<std::shared_ptr<Request>> dropped;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        dropped.swap(queue_);
        for (auto& r : running_) r->cancel.store(true);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    for (auto& r : dropped)
        if (r->done) r->done(Status(ErrorCode::cancelled, "the generation queue was shut down"));
}

uint64_t GenerationQueue::submit(std::vector<int32_t> prompt, GenerateParams params, TextCallback on_text,
                                 DoneCallback done) {
    auto r = std::make_shared<Request>();
    r->prompt = std::move(prompt);
    r->params = std::move(params);
    r->on_text = std::move(on_text);
    r->done = std::move(done);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        r->id = next_id_++;
        queue_.push_back(r);
    }
    wake_.notify_one();
    return r->id;
}

bool GenerationQueue::cancel(uint64_t id) {
    std::shared_ptr<Request> removed;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = queue_.begin(); it != queue_.end(); ++it) {
            if ((*it)->id == id) {
                removed = *it;
                queue_.erase(it);
                break;
            }
        }
        if (!removed) {
            for (auto& r : running_) {
                if (r->id == id) {
                    r->cancel.store(true);
                    return true;
                }
            }
            return false;
        }
    }
    if (removed->done) removed->done(Status(ErrorCode::cancelled, "cancelled before it started"));
    return true;
}

size_t GenerationQueue::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
}

void GenerationQueue::worker_loop(Sequence& seq) {
    for (;;) {
        std::shared_ptr<Request> r;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            r = queue_.front();
            queue_.pop_front();
            running_.push_back(r);
        }
        Result<GenerateStats> result = seq.generate(r->prompt, r->params, r->on_text, &r->cancel);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            running_.erase(std::find(running_.begin(), running_.end(), r));
        }
        if (r->done) r->done(result);
    }
}

}  // namespace strata
